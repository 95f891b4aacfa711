"""A hospital system on Kafka: SCRAM-SHA-512 over TLS, and ACLs that let it write only its own
inbound topic and read only its own responses (deploy/local/kafka.sh grant-hospital); a message
on its topic in another hospital's name is refused (the referral service's sender check)."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context

from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    REFERRAL_EVENTS,
    hospital_inbound,
    hospital_responses,
)
from tests.e2e.harness import ServiceProcesses, dead_letter_reason
from tests.support import ROOT, TestStack, eventually, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB = "sikao-hospital", "trang-hospital"


@dataclass(frozen=True)
class HospitalLogin:
    """What a hospital integrator is given: the listener, the CA to trust, a user and password."""

    bootstrap_servers: str
    ssl_context: ssl.SSLContext
    username: str
    password: str

    def client_options(self, *, password: str | None = None) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password if password is None else password,
            "ssl_context": self.ssl_context,
        }

    def consumer(self, topic: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            group_id=f"{self.username}.responses",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **self.client_options(),
        )


@pytest.fixture(scope="module")
def logins(stack: TestStack) -> dict[str, HospitalLogin]:
    """SCRAM users and ACLs for two directory hospitals, with fresh passwords."""
    ssl_context = create_ssl_context(cafile=str(stack.state_dir / "kafka" / "tls" / "ca.pem"))
    granted = {}
    for hospital in (SPOKE, HUB):
        password = secrets.token_urlsafe(24)
        stack.run("bash", "deploy/local/kafka.sh", "grant-hospital", hospital, password)
        granted[hospital] = HospitalLogin(
            bootstrap_servers=f"127.0.0.1:{stack.kafka_hospital_port}",
            ssl_context=ssl_context,
            username=hospital,
            password=password,
        )
    return granted


async def producer_of(login: HospitalLogin) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(enable_idempotence=True, **login.client_options())
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def spoke_producer(logins: dict[str, HospitalLogin]) -> AsyncIterator[AIOKafkaProducer]:
    async for producer in producer_of(logins[SPOKE]):
        yield producer


@pytest.fixture
async def hub_producer(logins: dict[str, HospitalLogin]) -> AsyncIterator[AIOKafkaProducer]:
    async for producer in producer_of(logins[HUB]):
        yield producer


async def answer_on_own_topic(login: HospitalLogin, message_id: str) -> dict[str, Any]:
    """The network's answer (a response message Bundle) to ``message_id``, read as the hospital
    does."""
    consumer = login.consumer(hospital_responses(login.username).name)
    await consumer.start()
    try:

        async def answer() -> dict[str, Any] | None:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    bundle: dict[str, Any] = json.loads(record.value or b"{}")
                    if bundle["entry"][0]["resource"]["response"]["identifier"] == message_id:
                        return bundle
            return None

        return await eventually(answer, what=f"the answer on {login.username}'s response topic")
    finally:
        await consumer.stop()


async def test_a_hospital_sends_a_referral_over_tls_and_reads_the_answer_on_its_own_topic(
    logins: dict[str, HospitalLogin],
    spoke_producer: AIOKafkaProducer,
    services: ServiceProcesses,
) -> None:
    bundle, referral_id, message_id = referral_bundle(teleconsult=False)
    await spoke_producer.send_and_wait(
        hospital_inbound(SPOKE).name, json.dumps(bundle).encode(), key=referral_id.encode()
    )

    header = (await answer_on_own_topic(logins[SPOKE], message_id))["entry"][0]["resource"]
    assert header["response"]["code"] == "ok"
    assert header["focus"][0]["reference"] == f"Task/{referral_id}"


async def test_a_message_in_another_hospitals_name_is_dead_lettered_and_refused_to_its_writer(
    stack: TestStack,
    logins: dict[str, HospitalLogin],
    hub_producer: AIOKafkaProducer,
    referral_api: httpx.AsyncClient,
) -> None:
    # The hub writes, on its own topic, a referral that names Sikao as its sender.
    bundle, referral_id, message_id = referral_bundle(teleconsult=False)
    await hub_producer.send_and_wait(
        hospital_inbound(HUB).name, json.dumps(bundle).encode(), key=referral_id.encode()
    )

    reason = await dead_letter_reason(stack, hospital_inbound(HUB).name, referral_id)
    assert "Organization/sikao-hospital" in reason
    assert f"is not Organization/{HUB}" in reason
    answer = await answer_on_own_topic(logins[HUB], message_id)
    header = answer["entry"][0]["resource"]
    assert header["response"]["code"] == "fatal-error"
    assert header["destination"][0]["receiver"]["reference"] == f"Organization/{HUB}"
    resources = [entry["resource"] for entry in answer["entry"]]
    outcome = next(r for r in resources if r["resourceType"] == "OperationOutcome")
    assert outcome["issue"][0]["code"] == "forbidden"
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.sender"]
    # Never applied: Sikao, whose name it used, has no such referral.
    assert (await referral_api.get(f"/fhir/Task/{referral_id}")).status_code == 404


async def send_command(
    stack: TestStack, login: HospitalLogin, bundle: dict[str, Any], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """``python -m shared.admin send`` run as the README tells a hospital integrator to."""
    message = tmp_path / "message.json"
    message.write_text(json.dumps(bundle), encoding="utf-8")
    env = {
        **stack.env(),
        "FT_KAFKA_BOOTSTRAP_SERVERS": login.bootstrap_servers,
        "FT_KAFKA_SASL_USERNAME": login.username,
        "FT_KAFKA_SASL_PASSWORD": login.password,
        "FT_KAFKA_SSL_CAFILE": str(stack.state_dir / "kafka" / "tls" / "ca.pem"),
    }
    return await asyncio.to_thread(
        subprocess.run,
        [env["FT_PYTHON"], "-m", "shared.admin", "send", str(message)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_send_command_logs_in_as_the_hospital_and_gets_the_answer(
    stack: TestStack,
    logins: dict[str, HospitalLogin],
    services: ServiceProcesses,
    tmp_path: Path,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    result = await send_command(stack, logins[SPOKE], bundle, tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["entry"][0]["resource"]["response"]["code"] == "ok"
    assert answer["entry"][1]["resource"]["id"] == referral_id


async def test_the_send_command_will_not_send_in_another_hospitals_name(
    stack: TestStack, logins: dict[str, HospitalLogin], tmp_path: Path
) -> None:
    bundle, _, _ = referral_bundle(teleconsult=False)  # Sikao's referral, sent by the hub
    result = await send_command(stack, logins[HUB], bundle, tmp_path)
    assert result.returncode == 2
    assert "a hospital sends only in its own name" in result.stderr


async def test_a_hospital_may_not_write_any_topic_but_its_own_inbound_one(
    spoke_producer: AIOKafkaProducer,
) -> None:
    for topic in (
        hospital_inbound(HUB).name,  # another hospital's: Kafka itself refuses it
        HOSPITAL_INBOUND.name,  # the shared one, for the network's own producers only
        REFERRAL_EVENTS.name,
        hospital_responses(HUB).name,
    ):
        with pytest.raises(TopicAuthorizationFailedError):
            await spoke_producer.send_and_wait(topic, b"{}", key=b"forged")


async def test_a_hospital_may_not_read_another_hospitals_responses_nor_the_internal_events(
    logins: dict[str, HospitalLogin],
) -> None:
    for topic in (hospital_responses(HUB).name, REFERRAL_EVENTS.name):
        consumer = logins[SPOKE].consumer(topic)
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                await consumer.start()  # refused here, when it looks the topic up
        finally:
            await consumer.stop()


async def test_a_wrong_password_is_refused(logins: dict[str, HospitalLogin]) -> None:
    producer = AIOKafkaProducer(**logins[SPOKE].client_options(password="not-the-password"))
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()


async def test_the_hospital_listener_speaks_only_tls(logins: dict[str, HospitalLogin]) -> None:
    options = logins[SPOKE].client_options()
    options.update(security_protocol="SASL_PLAINTEXT", ssl_context=None)
    producer = AIOKafkaProducer(request_timeout_ms=5000, **options)
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()
