"""``python -m services.referral``: the referral service under uvicorn."""

from services.referral.config import ReferralSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("services.referral.bootstrap:create_app", port=ReferralSettings().referral_port)
