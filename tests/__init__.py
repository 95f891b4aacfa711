"""The test suite. Imported before any test module or fixture, so the setting below is in force
for everything the tests import and for the services they start (which inherit the environment):
every FHIR message any test builds is parsed back strictly, as a consumer would
(shared.fhir.envelope.CHECK_BUILT_MESSAGES); production does not pay for that check."""

import os

os.environ.setdefault("FT_CHECK_BUILT_MESSAGES", "1")
