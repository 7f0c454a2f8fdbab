// Warns before the idle limit ends the session, and lets the person stay logged in
// (WCAG 2.2.1 Timing adjustable). base.html renders the warning hidden, in the page's
// language, and puts on <body> the seconds left as the server counts them and how long
// before the end to warn. Without this script nothing is shown and nothing else changes:
// the session simply ends as before. Loaded with `defer` (the content security policy
// allows scripts from the service only, no inline ones).
(function () {
  "use strict";
  var body = document.body;
  var dialog = document.getElementById("session-timeout");
  if (!dialog || !body.dataset.sessionSecondsLeft || !window.fetch) {
    return;
  }

  // Tabs of the same browser share one session: a page loaded or an extension asked for in
  // one tab moves the end for all of them, so none warns about an end that has moved.
  var SHARED_KEY = "referral.session-deadline";
  var warningMs = Number(body.dataset.sessionWarningSeconds) * 1000;
  var extendUrl = body.dataset.sessionExtendUrl;
  var warning = dialog.querySelector('[data-session-state="warning"]');
  var ended = dialog.querySelector('[data-session-state="ended"]');
  var extendButton = dialog.querySelector("[data-session-extend]");
  var finalNote = dialog.querySelector("[data-session-final]");
  var errorNote = dialog.querySelector("[data-session-error]");
  var loginLink = dialog.querySelector("[data-session-login]");
  var status = document.querySelector("[data-session-status]");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var endsAtSpan = dialog.querySelector("[data-session-ends-at]");

  var deadline = 0; // by this browser's clock, in milliseconds
  var state = "quiet"; // "quiet", "warning" or "ended"
  var focusBefore = null;

  // The dialog takes focus itself when there is no button left to focus.
  dialog.tabIndex = -1;

  function adopt(newDeadline, endsAt) {
    deadline = newDeadline;
    if (endsAt) {
      endsAtSpan.textContent = endsAt;
    }
  }

  function share() {
    try {
      window.localStorage.setItem(
        SHARED_KEY,
        JSON.stringify({ deadline: deadline, endsAt: endsAtSpan.textContent })
      );
    } catch (error) {
      // Storage may be off (private browsing): each tab then keeps its own count.
    }
  }

  function label(titleId, textId) {
    dialog.setAttribute("aria-labelledby", titleId);
    dialog.setAttribute("aria-describedby", textId);
  }

  function showWarning() {
    state = "warning";
    focusBefore = document.activeElement;
    label("session-timeout-title", "session-timeout-text");
    ended.hidden = true;
    warning.hidden = false;
    errorNote.hidden = true;
    dialog.hidden = false;
    if (extendButton.hidden) {
      dialog.focus();
    } else {
      extendButton.focus();
    }
  }

  function showEnded() {
    state = "ended";
    label("session-ended-title", "session-ended-text");
    warning.hidden = true;
    ended.hidden = false;
    dialog.hidden = false;
    loginLink.focus();
  }

  function hide() {
    state = "quiet";
    dialog.hidden = true;
    // Back to where the person was, so the warning costs them nothing but a click.
    if (focusBefore && focusBefore !== document.body && document.contains(focusBefore)) {
      focusBefore.focus();
    }
    focusBefore = null;
  }

  function check() {
    var left = deadline - Date.now();
    if (left <= 0) {
      if (state !== "ended") {
        showEnded();
      }
    } else if (left <= warningMs) {
      if (state !== "warning") {
        showWarning();
      }
    } else if (state !== "quiet") {
      hide();
    }
  }

  function extended(timing) {
    adopt(Date.now() + timing.seconds_left * 1000, timing.ends_at);
    share();
    if (timing.seconds_left * 1000 <= warningMs) {
      // The absolute limit is near: no more time can be given, so say so and offer only
      // logging out.
      extendButton.hidden = true;
      finalNote.hidden = false;
      dialog.focus();
      return;
    }
    status.textContent = status.dataset.message.replace("{time}", timing.ends_at);
    hide();
  }

  function extend() {
    extendButton.disabled = true;
    errorNote.hidden = true;
    window
      .fetch(extendUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfMeta ? csrfMeta.content : "" },
      })
      .then(function (response) {
        if (response.status === 401) {
          showEnded();
          return null;
        }
        if (!response.ok) {
          throw new Error("not extended: " + response.status);
        }
        return response.json().then(extended);
      })
      .catch(function () {
        errorNote.hidden = false;
        extendButton.focus();
      })
      .then(function () {
        extendButton.disabled = false;
      });
  }

  extendButton.addEventListener("click", extend);
  window.addEventListener("storage", function (event) {
    if (event.key !== SHARED_KEY || !event.newValue) {
      return;
    }
    try {
      var shared = JSON.parse(event.newValue);
      if (shared.deadline > deadline) {
        adopt(shared.deadline, shared.endsAt);
        check();
      }
    } catch (error) {
      // Another tab wrote something unreadable: keep this tab's own count.
    }
  });
  // A phone that slept may have let the timer lapse: look again when the page is seen.
  document.addEventListener("visibilitychange", check);

  adopt(Date.now() + Number(body.dataset.sessionSecondsLeft) * 1000, null);
  share();
  window.setInterval(check, 1000);
  check();
})();
