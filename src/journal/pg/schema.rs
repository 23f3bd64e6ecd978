//! The team journal's schema: versioned steps applied on first use, under
//! a transaction-scoped advisory lock so two agents starting at once
//! neither race nor fail (the second waits, then finds the work done).

use super::super::JournalError;
use super::pool::pg_err;
use tokio_postgres::Client;

/// Key of the advisory lock taken while migrating ("SDSK").
const MIGRATION_LOCK: i64 = 0x5344_534B;

/// The channel the audit trigger notifies (the new row's id).
pub const AUDIT_CHANNEL: &str = "storedesk_audit";

/// Schema steps; `storedesk_schema.version` is the number applied (public
/// so the tests can build a database of an older version).
pub const MIGRATIONS: &[&str] = &[
    // v1
    r#"
    CREATE TABLE writes (
        id               BIGSERIAL PRIMARY KEY,
        kind             TEXT NOT NULL,
        idempotency_key  TEXT NOT NULL,
        target           TEXT,
        state            TEXT NOT NULL CHECK (state IN ('pending','done','failed')),
        profile          TEXT NOT NULL,
        environment      TEXT NOT NULL,
        operator         TEXT NOT NULL,
        machine          TEXT NOT NULL,
        agent            TEXT NOT NULL,
        customer         TEXT NOT NULL,
        customer_fp      TEXT NOT NULL,
        -- the customer key sealed with the team seal key; NULL once settled
        sealed_key       BYTEA,
        -- fingerprint of the team seal key that sealed it
        seal_id          TEXT,
        body             TEXT NOT NULL,
        summary          TEXT NOT NULL,
        expected_effect  TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        created_server   TIMESTAMPTZ NOT NULL DEFAULT now(),
        attempts         BIGINT NOT NULL DEFAULT 0,
        last_attempt_at  TEXT,
        last_error       TEXT,
        settled_at       TEXT,
        http_status      INTEGER,
        result           TEXT,
        correlation      TEXT,
        -- the agent sending it, and until when (server time) its lease holds
        claimed_by       TEXT,
        claimed_until    TIMESTAMPTZ,
        -- exactly once across agents: one row per idempotency key
        UNIQUE (kind, idempotency_key),
        CHECK (state = 'pending' OR sealed_key IS NULL)
    );
    CREATE INDEX writes_pending ON writes(state) WHERE state = 'pending';
    CREATE INDEX writes_customer ON writes(customer, created_server);

    CREATE FUNCTION storedesk_writes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'journal: writes are never deleted';
        END IF;
        IF (NEW.kind, NEW.idempotency_key, NEW.target, NEW.body, NEW.profile, NEW.environment,
            NEW.customer_fp, NEW.operator, NEW.machine, NEW.agent)
           IS DISTINCT FROM
           (OLD.kind, OLD.idempotency_key, OLD.target, OLD.body, OLD.profile, OLD.environment,
            OLD.customer_fp, OLD.operator, OLD.machine, OLD.agent) THEN
            RAISE EXCEPTION 'journal: a write''s identity cannot change';
        END IF;
        IF OLD.state <> 'pending' AND NEW.state IS DISTINCT FROM OLD.state THEN
            RAISE EXCEPTION 'journal: a settled write cannot change state';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER writes_guard BEFORE UPDATE OR DELETE ON writes
        FOR EACH ROW EXECUTE FUNCTION storedesk_writes_guard();

    CREATE TABLE order_transactions (
        write_id            BIGINT NOT NULL REFERENCES writes(id),
        order_id            TEXT NOT NULL,
        order_line_item_id  TEXT NOT NULL,
        quantity_consumed   BIGINT NOT NULL,
        product_id          TEXT NOT NULL,
        customer_fp         TEXT NOT NULL,
        tracking_id         TEXT NOT NULL,
        recorded_at         TEXT NOT NULL,
        PRIMARY KEY (order_id, order_line_item_id, write_id)
    );

    CREATE TABLE audit (
        id               BIGSERIAL PRIMARY KEY,
        at               TEXT NOT NULL,
        server_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
        operator         TEXT NOT NULL,
        machine          TEXT NOT NULL,
        agent            TEXT NOT NULL,
        profile          TEXT NOT NULL,
        environment      TEXT NOT NULL,
        customer         TEXT NOT NULL,
        customer_fp      TEXT NOT NULL,
        action           TEXT NOT NULL,
        event            TEXT NOT NULL,
        write_id         BIGINT,
        idempotency_key  TEXT,
        attempt          BIGINT,
        request_summary  TEXT NOT NULL,
        result           TEXT,
        http_status      INTEGER,
        correlation      TEXT
    );
    CREATE INDEX audit_write ON audit(write_id);
    CREATE INDEX audit_customer ON audit(customer, server_at);

    -- Append-only, twice over: a trigger refuses UPDATE, DELETE and
    -- TRUNCATE for every role, and the privileges are not there either.
    CREATE FUNCTION storedesk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit log is append-only';
    END $$;
    CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION storedesk_audit_append_only();
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION storedesk_audit_append_only();
    REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC;
    REVOKE DELETE, TRUNCATE ON writes FROM PUBLIC;

    -- Other agents' consoles follow the log live (LISTEN storedesk_audit).
    CREATE FUNCTION storedesk_audit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('storedesk_audit', NEW.id::text);
        RETURN NULL;
    END $$;
    CREATE TRIGGER audit_notify AFTER INSERT ON audit
        FOR EACH ROW EXECUTE FUNCTION storedesk_audit_notify();
    "#,
    // v2 (as SQLite's v3): a clawback acknowledgement is identified by its
    // event's message id alone; the pop receipt (new each time the event
    // is received) lives in `receipt`, outside the identity, so a stale or
    // refused acknowledgement is retried with a fresh receipt as the same
    // row's next attempt — and only that kind may go from failed back to
    // pending, since deleting an event twice removes nothing else.
    r#"
    ALTER TABLE writes ADD COLUMN receipt TEXT;
    ALTER TABLE writes DISABLE TRIGGER writes_guard;
    UPDATE writes
       SET receipt = substr(target, strpos(target, '/') + 1),
           target = substr(target, 1, strpos(target, '/') - 1)
     WHERE kind = 'clawback_ack' AND strpos(target, '/') > 0;
    ALTER TABLE writes ENABLE TRIGGER writes_guard;

    CREATE OR REPLACE FUNCTION storedesk_writes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'journal: writes are never deleted';
        END IF;
        IF (NEW.kind, NEW.idempotency_key, NEW.target, NEW.body, NEW.profile, NEW.environment,
            NEW.customer_fp, NEW.operator, NEW.machine, NEW.agent)
           IS DISTINCT FROM
           (OLD.kind, OLD.idempotency_key, OLD.target, OLD.body, OLD.profile, OLD.environment,
            OLD.customer_fp, OLD.operator, OLD.machine, OLD.agent) THEN
            RAISE EXCEPTION 'journal: a write''s identity cannot change';
        END IF;
        IF OLD.state <> 'pending' AND NEW.state IS DISTINCT FROM OLD.state
           AND NOT (OLD.kind = 'clawback_ack' AND OLD.state = 'failed' AND NEW.state = 'pending') THEN
            RAISE EXCEPTION 'journal: a settled write cannot change state';
        END IF;
        RETURN NEW;
    END $$;
    "#,
    // v3: where a row copied from a local SQLite journal came from
    // (`journal::migrate`), unique, so copying twice copies nothing twice.
    r#"
    ALTER TABLE audit ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX audit_origin ON audit(origin) WHERE origin IS NOT NULL;
    "#,
];

pub const PG_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Bring the schema up to date (no-op when it is), under the lock.
pub async fn migrate(client: &mut Client) -> Result<u32, JournalError> {
    // Fast path without the lock once migrated.
    if let Some(v) = version(client).await?
        && v == PG_SCHEMA_VERSION
    {
        return Ok(v);
    }
    let tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS storedesk_schema (version INTEGER NOT NULL)")
        .await
        .map_err(pg_err)?;
    let row = tx
        .query_opt("SELECT max(version) FROM storedesk_schema", &[])
        .await
        .map_err(pg_err)?;
    let current = row
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0)
        .max(0) as u32;
    if current > PG_SCHEMA_VERSION {
        return Err(JournalError::TooNew {
            found: current,
            known: PG_SCHEMA_VERSION,
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(step).await.map_err(pg_err)?;
        let v = (i + 1) as i32;
        tx.execute("INSERT INTO storedesk_schema (version) VALUES ($1)", &[&v])
            .await
            .map_err(pg_err)?;
        tracing::info!(version = v, "team journal: schema migrated");
    }
    // The role applying the schema owns the tables; it gives up its own
    // right to change the audit log, so the application role — the one in
    // the README's set-up — cannot, even as owner.
    tx.batch_execute(
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM CURRENT_USER; \
         REVOKE DELETE, TRUNCATE ON writes FROM CURRENT_USER;",
    )
    .await
    .map_err(pg_err)?;
    tx.commit().await.map_err(pg_err)?;
    Ok(PG_SCHEMA_VERSION)
}

/// The schema version applied, `None` before the first migration.
pub async fn version(client: &Client) -> Result<Option<u32>, JournalError> {
    let exists = client
        .query_one("SELECT to_regclass('storedesk_schema') IS NOT NULL", &[])
        .await
        .map_err(pg_err)?
        .get::<_, bool>(0);
    if !exists {
        return Ok(None);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM storedesk_schema", &[])
        .await
        .map_err(pg_err)?
        .get(0);
    Ok(v.map(|v| v.max(0) as u32))
}
