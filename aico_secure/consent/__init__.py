"""Consent and access control: permission levels, data categories, explicit time-limited grants, and
the data-access path every read and write goes through.

``ConsentManager`` decides and records; ``DataAccess`` puts that decision in front of a record store. The
contract types (``Actor``, ``Grant``, levels, operations) are ``aico_secure.target.consent``'s.
"""

from aico_secure.consent.access import DataAccess
from aico_secure.consent.categories import DEFAULT_CATEGORIES
from aico_secure.consent.errors import ConsentError, ConsentStateCorrupt, InvalidConsentRequest, PermissionDenied
from aico_secure.consent.service import ConsentManager

__all__ = ["DEFAULT_CATEGORIES", "ConsentError", "ConsentManager", "ConsentStateCorrupt", "DataAccess",
           "InvalidConsentRequest", "PermissionDenied"]
