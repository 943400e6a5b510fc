"""Rows stored before the documented shapes were followed migrate forward with nothing lost: a
Smaregi transaction stored with the server time as its time and terminalTranId as its receipt
gets the register's sale time and transactionUuid from its stored raw row, and keeps the server
time beside it; each connection gets a webhook secret of its own."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pos_link.models import PosConnection, PosTransaction
from tests.conftest import build_tenant

BEFORE = [("pos_link", "0002_transaction_thumbnail")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_smaregi_rows_get_the_sale_time_and_receipt_number_and_keep_the_server_time():
    alpha = build_tenant("Alpha", "posmig-alpha")
    server_time = datetime(2018, 9, 2, 4, 34, 34, tzinfo=UTC)  # 13:34:34 in Japan
    raw = {"transactionHeadId": "104", "transactionDateTime": "2018-09-02 13:34:34",
           "terminalTranDateTime": "2018-09-02 13:34:32", "transactionUuid": "535881272001", "charge": "1920",
           "terminalTranId": "10000104"}  # fmt: skip
    try:
        old = _migrate(BEFORE).loader.project_state(BEFORE).apps
        conn_model, tx_model = old.get_model("pos_link", "PosConnection"), old.get_model("pos_link", "PosTransaction")
        smaregi = conn_model.objects.create(operator_id=alpha.operator.pk, provider="smaregi", contract_id="c1")
        conn_model.objects.create(operator_id=alpha.operator.pk, provider="ubiregi", contract_id="31")
        tx_model.objects.create(
            operator_id=alpha.operator.pk, camera_id=alpha.camera.pk, provider="smaregi", contract_id="c1",
            provider_transaction_id="104", occurred_at=server_time, kind="payment", receipt_no="10000104", raw=raw,
        )  # fmt: skip
        tx_model.objects.create(
            operator_id=alpha.operator.pk, camera_id=alpha.camera.pk, provider="ubiregi", contract_id="31",
            provider_transaction_id="1001", occurred_at=server_time, kind="payment", receipt_no="1001", raw={},
        )  # fmt: skip
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    tx = PosTransaction.objects.get(provider="smaregi")
    assert tx.occurred_at == datetime(2018, 9, 2, 4, 34, 32, tzinfo=UTC) and tx.server_at == server_time
    assert tx.receipt_no == "535881272001" and str(tx.change) == "1920.00"
    ubiregi = PosTransaction.objects.get(provider="ubiregi")
    assert ubiregi.occurred_at == server_time and ubiregi.receipt_no == "1001"  # untouched
    connections = PosConnection.objects.order_by("pk")
    assert connections.get(pk=smaregi.pk).interface == "smaregi_access"
    assert len({c.webhook_secret for c in connections}) == 2
