"""``python -m services.telemedicine``: the telemedicine service under uvicorn."""

from services.telemedicine.config import TelemedicineSettings
from shared.serving import serve

if __name__ == "__main__":
    settings = TelemedicineSettings()
    serve(
        "services.telemedicine.bootstrap:create_app",
        settings=settings,
        port=settings.telemedicine_port,
    )
