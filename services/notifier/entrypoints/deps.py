"""What the notifier's routes depend on: typed ``Annotated`` dependencies on its container's
parts. Route modules import this module, never one another. The use cases' refusals
(domain/errors.py) are answered by the shared handler (shared/web.py), not here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.templating import Jinja2Templates

from services.notifier.container import InboundSecrets, LivePages, NotifierContainer
from services.notifier.domain.contacts import ContactBook
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.workers.dispatcher import DeliveryDispatcher
from shared.runtime import container_dependency

NotifierContainerDep = Annotated[
    NotifierContainer, Depends(container_dependency(NotifierContainer))
]


def get_contacts(container: NotifierContainerDep) -> ContactBook:
    return container.contacts


def get_dispatcher(container: NotifierContainerDep) -> DeliveryDispatcher:
    return container.dispatcher


def get_delivery_metrics(container: NotifierContainerDep) -> DeliveryMetrics:
    return container.delivery_metrics


def get_acknowledgement_links(container: NotifierContainerDep) -> AcknowledgementLinks:
    return container.acknowledgement_links


def get_live_pages(container: NotifierContainerDep) -> LivePages:
    return container.live


def get_inbound_secrets(container: NotifierContainerDep) -> InboundSecrets:
    return container.secrets


def get_pages(container: NotifierContainerDep) -> Jinja2Templates:
    return container.pages


ContactsDep = Annotated[ContactBook, Depends(get_contacts)]
DispatcherDep = Annotated[DeliveryDispatcher, Depends(get_dispatcher)]
DeliveryMetricsDep = Annotated[DeliveryMetrics, Depends(get_delivery_metrics)]
AcknowledgementLinksDep = Annotated[AcknowledgementLinks, Depends(get_acknowledgement_links)]
LivePagesDep = Annotated[LivePages, Depends(get_live_pages)]
InboundSecretsDep = Annotated[InboundSecrets, Depends(get_inbound_secrets)]
PagesDep = Annotated[Jinja2Templates, Depends(get_pages)]
