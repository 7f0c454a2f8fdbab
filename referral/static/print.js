// The "Print" button of a page meant for paper (referral/templates/_print_button.html).
// It is rendered hidden: without script there is no button that does nothing, and the
// browser's own print command prints the page just the same. With script it is shown and
// opens the browser's print dialog. Loaded with `defer`, so the page is parsed by now; no
// inline handler, since the content security policy allows scripts from the service only.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
    button.hidden = false;
  });
})();
