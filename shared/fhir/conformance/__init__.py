"""The project's published conformance resources (served under /fhir, listed in the
CapabilityStatement): profiles, MessageDefinitions, ValueSets and the CodeSystems."""
