"""``python -m services.telemedicine``: the telemedicine service under uvicorn."""

from services.telemedicine.config import TelemedicineSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve(
        "services.telemedicine.bootstrap:create_app", port=TelemedicineSettings().telemedicine_port
    )
