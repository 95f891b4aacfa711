"""Background loops of the referral service, apart from the use cases: each worker wakes every few
seconds, finds the referrals with work due and hands each to a use case of ``service/`` in its
own transaction (one referral's failure never stops the others)."""
