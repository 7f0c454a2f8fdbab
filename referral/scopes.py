"""Whose data key: the person a record is about and the holder whose record it is.

A plain value, shared by the data-key store (referral.db.data_keys), the models that say
which scope seals them, the access log (its own scope per holder) and the policy (the
subject of a refusal)."""

from __future__ import annotations

from dataclasses import dataclass

# Holders of the access log's sealed details: "audit:" + the holder of the record concerned.
AUDIT_HOLDER_PREFIX = "audit:"


@dataclass(frozen=True)
class KeyScope:
    """Whose key: the person the data is about and the holder whose record it is."""

    person_id: str
    holder: str

    def for_the_log(self) -> KeyScope:
        """The scope of the access log's sealed details about this person and holder. It has
        keys of its own: re-encryption must leave them alone (an entry rewritten under a new
        key would no longer match its hash), while purging the holder's record shreds them
        with the record's own keys."""
        if self.is_the_logs:
            return self
        return KeyScope(self.person_id, AUDIT_HOLDER_PREFIX + self.holder)

    @property
    def is_the_logs(self) -> bool:
        return self.holder.startswith(AUDIT_HOLDER_PREFIX)
