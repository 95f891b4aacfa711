"""``python -m services.notifier``: the notifier under uvicorn (consumer, dispatcher, health)."""

from services.notifier.config import NotifierSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("services.notifier.bootstrap:create_app", port=NotifierSettings().notifier_port)
