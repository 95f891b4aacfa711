"""The one place the project imports FHIR models from.

fhir.resources defaults to R5; hospital systems speak R4, so every service uses the R4B models
(elements identical to R4) through this module.
"""

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.communicationrequest import CommunicationRequest
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

FHIR_VERSION = "4.3.0"
FHIR_JSON = "application/fhir+json"

__all__ = [
    "FHIR_JSON",
    "FHIR_VERSION",
    "Bundle",
    "BundleEntry",
    "Communication",
    "CommunicationRequest",
    "MessageHeader",
    "Observation",
    "OperationOutcome",
    "Organization",
    "ServiceRequest",
    "Task",
    "get_fhir_model_class",
]
