"""What the notifier's routes depend on: typed ``Annotated`` dependencies on its container's
parts. Route modules import this module, never one another."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.templating import Jinja2Templates

from services.notifier.container import InboundSecrets, LivePages, NotifierContainer
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.errors import NotAFailedDelivery, NotYourDelivery, UnknownDelivery
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


@contextlib.contextmanager
def refusals_answered(delivery_id: str) -> Iterator[None]:
    """A use case's refusal about a delivery as the HTTP answer a hospital system reads."""
    try:
        yield
    except UnknownDelivery:
        raise HTTPException(404, f"No delivery {delivery_id[:80]!r}") from None
    except NotYourDelivery:
        raise HTTPException(403, "This alert was not sent to your hospital") from None
    except NotAFailedDelivery:
        reason = f"Delivery {delivery_id[:80]!r} is not a failed delivery"
        raise HTTPException(409, reason) from None
