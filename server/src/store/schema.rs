//! The schema, one migration per entry, in each database's dialect: entry `n` of [`SQLITE`]
//! and of [`POSTGRES`] make the same tables (a test checks the lists stay the same length).
//! SQLite counts the migrations applied in `PRAGMA user_version`, PostgreSQL in
//! `dgbot_schema`. PostgreSQL names its identity column `rowid` where the store orders by
//! SQLite's implicit `rowid`, so the store's queries are the same on both.

pub const SQLITE: &[&str] = &[
    "CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        parts TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_by_visitor ON messages (chatbot_id, visitor_id, seq);
    CREATE TABLE submissions (
        action_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        part_id TEXT NOT NULL,
        action TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX submissions_by_visitor ON submissions (chatbot_id, visitor_id);
    CREATE TABLE ratings (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        rating INTEGER NOT NULL,
        feedback TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE identities (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT,
        email TEXT,
        user_hash TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE classifications (
        message_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        topic TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX classifications_by_visitor ON classifications (chatbot_id, visitor_id);",
    // Livechat (seed 002): messages written in a livechat session carry its id; agent messages
    // their author (agent id, display name, avatar) as JSON.
    "ALTER TABLE messages ADD COLUMN livechat_session_id TEXT;
    ALTER TABLE messages ADD COLUMN author TEXT;
    CREATE INDEX messages_by_livechat_session ON messages (livechat_session_id, seq);
    CREATE TABLE livechat_sessions (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        status TEXT NOT NULL,
        platform TEXT NOT NULL,
        source TEXT NOT NULL,
        part_id TEXT,
        language TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        closed_by TEXT,
        closed_by_agent_id TEXT,
        close_reason TEXT,
        agent_id TEXT,
        state_version INTEGER NOT NULL,
        agent_typing_until INTEGER NOT NULL DEFAULT 0,
        visitor_typing_until INTEGER NOT NULL DEFAULT 0,
        feedback_status TEXT,
        feedback_rating INTEGER,
        feedback_comment TEXT,
        last_author TEXT,
        message_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX livechat_sessions_by_visitor ON livechat_sessions (chatbot_id, visitor_id);
    CREATE INDEX livechat_sessions_by_status ON livechat_sessions (chatbot_id, status);
    CREATE TABLE livechat_tokens (
        token_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX livechat_tokens_by_session ON livechat_tokens (session_id);
    CREATE TABLE livechat_agents (
        chatbot_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        avatar_url TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, agent_id)
    );
    CREATE TABLE livechat_settings (
        chatbot_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        data BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX attachments_by_visitor ON attachments (chatbot_id, visitor_id);
    CREATE INDEX attachments_by_age ON attachments (chatbot_id, created_at);",
    // Idempotent sends: a visitor message's client-generated id (`Idempotency-Key`) is stored
    // once per visitor. Server secrets that must outlive a restart (the token key).
    "ALTER TABLE messages ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages (chatbot_id, visitor_id, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );",
    // Outbound webhooks (seed 002): endpoints set through the API, the outbox, the attempts.
    "CREATE TABLE webhook_configs (
        chatbot_id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER
    );
    CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);
    CREATE INDEX webhook_events_by_chatbot ON webhook_events (chatbot_id, created_at);
    CREATE TABLE webhook_attempts (
        delivery_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX webhook_attempts_by_event ON webhook_attempts (event_id, attempt);",
    // Identities checked against the chatbot's identity secret (seed 000).
    "ALTER TABLE identities ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;",
    // Answers cut off by a failure (kept, but never replayed as a retry's answer).
    "ALTER TABLE messages ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;",
    // Limits that hold across instances (PostgreSQL; SQLite's one process counts in memory),
    // and hub events too large for a `NOTIFY` payload.
    "CREATE TABLE rate_hits (
        scope TEXT NOT NULL,
        who TEXT NOT NULL,
        what TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE INDEX rate_hits_by_key ON rate_hits (scope, who, what, at_ms);
    CREATE TABLE hub_spill (
        id INTEGER PRIMARY KEY,
        payload TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );",
    // What each chatbot knows (issue 26): sources, the documents they yield (passages as
    // JSON, so every instance builds the same index from here), a version each chatbot's
    // index follows, and the questions the assistant could not answer.
    "CREATE TABLE knowledge_sources (
        source_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        documents INTEGER NOT NULL DEFAULT 0,
        last_synced_at INTEGER,
        error TEXT,
        created_at INTEGER NOT NULL,
        from_config INTEGER NOT NULL DEFAULT 0,
        lease_until INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX knowledge_sources_by_chatbot ON knowledge_sources (chatbot_id);
    CREATE TABLE knowledge_documents (
        source_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (source_id, seq)
    );
    CREATE TABLE knowledge_versions (
        chatbot_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    );
    CREATE TABLE unanswered (
        id INTEGER PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        question TEXT NOT NULL,
        lang TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX unanswered_by_chatbot ON unanswered (chatbot_id, created_at);",
    // Per-answer feedback (issue 27): the visitor's latest vote on an assistant answer, one row
    // per answer, and the message that offered the next step after its first "not helpful".
    "CREATE TABLE answer_feedback (
        message_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT,
        comment TEXT,
        updated_at TEXT NOT NULL,
        next_message_id TEXT
    );
    CREATE INDEX answer_feedback_by_visitor ON answer_feedback (chatbot_id, visitor_id);",
];

pub const POSTGRES: &[&str] = &[
    "CREATE TABLE messages (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        parts TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_by_visitor ON messages (chatbot_id, visitor_id, seq);
    CREATE TABLE submissions (
        rowid BIGINT GENERATED ALWAYS AS IDENTITY,
        action_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        part_id TEXT NOT NULL,
        action TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX submissions_by_visitor ON submissions (chatbot_id, visitor_id);
    CREATE TABLE ratings (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        rating BIGINT NOT NULL,
        feedback TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE identities (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT,
        email TEXT,
        user_hash TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE classifications (
        message_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        topic TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX classifications_by_visitor ON classifications (chatbot_id, visitor_id);",
    "ALTER TABLE messages ADD COLUMN livechat_session_id TEXT;
    ALTER TABLE messages ADD COLUMN author TEXT;
    CREATE INDEX messages_by_livechat_session ON messages (livechat_session_id, seq);
    CREATE TABLE livechat_sessions (
        rowid BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        status TEXT NOT NULL,
        platform TEXT NOT NULL,
        source TEXT NOT NULL,
        part_id TEXT,
        language TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        closed_by TEXT,
        closed_by_agent_id TEXT,
        close_reason TEXT,
        agent_id TEXT,
        state_version BIGINT NOT NULL,
        agent_typing_until BIGINT NOT NULL DEFAULT 0,
        visitor_typing_until BIGINT NOT NULL DEFAULT 0,
        feedback_status TEXT,
        feedback_rating BIGINT,
        feedback_comment TEXT,
        last_author TEXT,
        message_count BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX livechat_sessions_by_visitor ON livechat_sessions (chatbot_id, visitor_id);
    CREATE INDEX livechat_sessions_by_status ON livechat_sessions (chatbot_id, status);
    CREATE TABLE livechat_tokens (
        token_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX livechat_tokens_by_session ON livechat_tokens (session_id);
    CREATE TABLE livechat_agents (
        chatbot_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        avatar_url TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, agent_id)
    );
    CREATE TABLE livechat_settings (
        chatbot_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes BIGINT NOT NULL,
        data BYTEA NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX attachments_by_visitor ON attachments (chatbot_id, visitor_id);
    CREATE INDEX attachments_by_age ON attachments (chatbot_id, created_at);",
    "ALTER TABLE messages ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages (chatbot_id, visitor_id, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BYTEA NOT NULL
    );",
    "CREATE TABLE webhook_configs (
        chatbot_id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE webhook_events (
        rowid BIGINT GENERATED ALWAYS AS IDENTITY,
        event_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        delivered_at BIGINT
    );
    CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);
    CREATE INDEX webhook_events_by_chatbot ON webhook_events (chatbot_id, created_at);
    CREATE TABLE webhook_attempts (
        delivery_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        status BIGINT,
        error TEXT,
        duration_ms BIGINT NOT NULL
    );
    CREATE INDEX webhook_attempts_by_event ON webhook_attempts (event_id, attempt);",
    "ALTER TABLE identities ADD COLUMN verified BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE messages ADD COLUMN partial BIGINT NOT NULL DEFAULT 0;",
    "CREATE TABLE rate_hits (
        scope TEXT NOT NULL,
        who TEXT NOT NULL,
        what TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    );
    CREATE INDEX rate_hits_by_key ON rate_hits (scope, who, what, at_ms);
    CREATE TABLE hub_spill (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        payload TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    );
    -- One request counted in one round trip (`Store::count_hit`): 0, or the milliseconds to
    -- wait. The lock makes two instances counting one key at once take turns.
    CREATE FUNCTION dgbot_rate_hit(p_scope TEXT, p_who TEXT, p_what TEXT, p_now BIGINT,
                                   p_window BIGINT, p_max BIGINT) RETURNS BIGINT AS $$
    DECLARE
        hits BIGINT;
        oldest BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('rate:' || p_scope || ':' || p_who || ':' || p_what));
        DELETE FROM rate_hits WHERE scope = p_scope AND who = p_who AND what = p_what
            AND at_ms <= p_now - p_window;
        SELECT COUNT(*), MIN(at_ms) INTO hits, oldest FROM rate_hits
            WHERE scope = p_scope AND who = p_who AND what = p_what;
        IF hits >= p_max THEN
            RETURN GREATEST(oldest + p_window - p_now, 1);
        END IF;
        INSERT INTO rate_hits (scope, who, what, at_ms) VALUES (p_scope, p_who, p_what, p_now);
        RETURN 0;
    END
    $$ LANGUAGE plpgsql;",
    "CREATE TABLE knowledge_sources (
        source_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        documents BIGINT NOT NULL DEFAULT 0,
        last_synced_at BIGINT,
        error TEXT,
        created_at BIGINT NOT NULL,
        from_config BIGINT NOT NULL DEFAULT 0,
        lease_until BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX knowledge_sources_by_chatbot ON knowledge_sources (chatbot_id);
    CREATE TABLE knowledge_documents (
        source_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (source_id, seq)
    );
    CREATE TABLE knowledge_versions (
        chatbot_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL
    );
    CREATE TABLE unanswered (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        question TEXT NOT NULL,
        lang TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX unanswered_by_chatbot ON unanswered (chatbot_id, created_at);",
    "CREATE TABLE answer_feedback (
        message_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT,
        comment TEXT,
        updated_at TEXT NOT NULL,
        next_message_id TEXT
    );
    CREATE INDEX answer_feedback_by_visitor ON answer_feedback (chatbot_id, visitor_id);",
];

#[cfg(test)]
mod tests {
    #[test]
    fn both_databases_have_every_migration() {
        assert_eq!(super::SQLITE.len(), super::POSTGRES.len());
    }
}
