"""The Jinja2 environment of the web app's pages: gettext in the person's language and the time
filters every page uses.

Text in a template is written ``{{ _("Sign in") }}`` (``jinja2.ext.i18n``, new-style: the
result is escaped, placeholders are named: ``_("%(n)s referrals", n=count)``). The language is
the page's ``language`` variable (the person's setting, Thai by default), so one environment
serves every language at once.

Time filters (rules in domain/display_time.py), in the page's language and the signed-in
person's Buddhist-era setting: ``{{ t | clock }}`` 07:05 · ``{{ t | date }}`` 30 พ.ย. 2569 ·
``{{ t | moment }}`` date and clock · ``{{ d | interval }}`` H:MM from a timedelta or seconds ·
``{{ t | iso }}`` for ``<time datetime="...">`` · ``{{ t | clock_s }}`` 07:05:09 and
``{{ d | latency }}`` 0.4 s, 3:07 min (the operators' console, where hops are seconds apart).
What the domain says in codes, worded in the page's language (adapters/page_wording.py):
``{{ reason | routing_reason }}``, ``{{ problem | refusal }}``.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates

from services.referral.adapters import page_wording
from services.referral.domain import display_time
from services.referral.domain.accounts import Language
from services.referral.domain.readable_time import local_iso
from services.referral.domain.routing_reasons import RoutingReason
from shared.errors import DomainError

DEFAULT_LANGUAGE: Language = "th"


def install_app_language(
    templates: Jinja2Templates, translations: Mapping[Language, gettext.NullTranslations]
) -> None:
    """Adds gettext and the time filters to ``templates``' environment."""

    def translator(context: jinja2.runtime.Context) -> gettext.NullTranslations:
        language = context.get("language") or DEFAULT_LANGUAGE
        return translations.get(language) or translations[DEFAULT_LANGUAGE]

    @jinja2.pass_context
    def translate(context: jinja2.runtime.Context, message: str) -> str:
        return translator(context).gettext(message)

    @jinja2.pass_context
    def translate_plural(
        context: jinja2.runtime.Context, singular: str, plural: str, n: int
    ) -> str:
        return translator(context).ngettext(singular, plural, n)

    environment = templates.env
    environment.add_extension("jinja2.ext.i18n")
    extended: Any = environment  # the extension adds install_gettext_callables
    extended.install_gettext_callables(translate, translate_plural, newstyle=True)

    @jinja2.pass_context
    def routing_reason(context: jinja2.runtime.Context, reason: RoutingReason | str) -> str:
        return page_wording.routing_reason(reason, translator(context).gettext)

    @jinja2.pass_context
    def refusal(context: jinja2.runtime.Context, problem: DomainError | str) -> str:
        return page_wording.refusal(problem, translator(context).gettext)

    environment.filters.update(
        routing_reason=routing_reason,
        refusal=refusal,
        clock=display_time.clock,
        date=_date,
        moment=_moment,
        interval=_interval,
        iso=local_iso,
        clock_s=display_time.clock_seconds,
        latency=display_time.latency,
    )


def _buddhist_era(context: jinja2.runtime.Context) -> bool:
    person = context.get("person")
    # Without a signed-in person (the sign-in page): the Thai habit.
    return bool(getattr(person, "buddhist_era", True))


def _language(context: jinja2.runtime.Context) -> str:
    return str(context.get("language") or DEFAULT_LANGUAGE)


@jinja2.pass_context
def _date(context: jinja2.runtime.Context, moment: datetime) -> str:
    return display_time.date(
        moment, language=_language(context), buddhist_era=_buddhist_era(context)
    )


@jinja2.pass_context
def _moment(context: jinja2.runtime.Context, value: datetime) -> str:
    return display_time.date_and_clock(
        value, language=_language(context), buddhist_era=_buddhist_era(context)
    )


def _interval(length: timedelta | float) -> str:
    if not isinstance(length, timedelta):
        length = timedelta(seconds=length)
    return display_time.interval(length)
