"""Personal data the notifier erases after the retention period (shared/retention.py): the texts
of alerts (they may quote a decline reason) and the addresses they went to (phone numbers, LINE
ids, e-mail addresses); who was told, on which channel, when and who acknowledged stay."""

PERSONAL_DATA = (
    """
    UPDATE delivery SET body = body - 'text' - 'texts', address = ''
    WHERE status <> 'pending' AND created_at < $1 AND (body ? 'text' OR address <> '')
    """,
    """
    UPDATE live_event SET payload = payload - 'text' - 'texts'
    WHERE created_at < $1 AND (payload ? 'text' OR payload ? 'texts')
    """,
)
