"""FHIR R4B models, the project's code systems and the Kafka message envelope."""
