"""The network's own vocabularies, each defined once: an enum of its codes and, beside it, how
every code reads in English and Thai. Pure Python (no framework): the domain of every service
may use them, and the published CodeSystems (shared.fhir.codesystems) are generated from them.

Event codes (MessageHeader.eventCoding) live with the message envelope in shared.fhir.codes.
"""
