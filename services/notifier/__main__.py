"""``python -m services.notifier``: the notifier under uvicorn (consumer, dispatcher, health)."""

from services.notifier.config import NotifierSettings
from shared.serving import serve

if __name__ == "__main__":
    settings = NotifierSettings()
    serve("services.notifier.bootstrap:create_app", settings=settings, port=settings.notifier_port)
