"""``python -m services.referral``: the referral service under uvicorn."""

from services.referral.config import ReferralSettings
from shared.serving import serve

if __name__ == "__main__":
    settings = ReferralSettings()
    serve("services.referral.bootstrap:create_app", settings=settings, port=settings.referral_port)
