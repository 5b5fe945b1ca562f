//! What each chatbot knows (issue 26): its sources (the spec as JSON, the sync's status and
//! lease), the documents a sync yields (each one JSON with its passages or products, in the
//! order found), a version per chatbot that moves whenever its documents change (each instance
//! rebuilds its index when it sees a newer one), and the questions the assistant could not
//! answer.

use super::db::{Conn, Row, args};
use super::{Result, Store};
use dgbot_core::model::knowledge::{
    DocumentRecord, SourceRecord, SourceSpec, SourceStatus, Unanswered,
};
use dgbot_core::store::KnowledgeStore;

const SOURCE_COLUMNS: &str = "source_id, chatbot_id, spec, status, documents, last_synced_at, error, created_at, from_config";

fn source_of(r: &Row) -> Result<SourceRecord> {
    Ok(SourceRecord {
        source_id: r.get(0)?,
        chatbot_id: r.get(1)?,
        spec: serde_json::from_str(&r.get::<String>(2)?)?,
        status: SourceStatus::parse(&r.get::<String>(3)?),
        documents: r.get(4)?,
        last_synced_at: r.get(5)?,
        error: r.get(6)?,
        created_at: r.get(7)?,
        from_config: r.get(8)?,
    })
}

/// The chatbot's documents changed: move its version on.
fn bump(c: &mut dyn Conn, chatbot_id: &str) -> Result<()> {
    c.exec(
        "INSERT INTO knowledge_versions (chatbot_id, version) VALUES (?1, 1) ON CONFLICT (chatbot_id) DO UPDATE SET version = knowledge_versions.version + 1",
        args![chatbot_id],
    )?;
    Ok(())
}

fn spec_json(spec: &SourceSpec) -> Result<String> {
    Ok(serde_json::to_string(spec)?)
}

impl KnowledgeStore for Store {
    fn put_source(&self, s: &SourceRecord) -> Result<()> {
        let spec = spec_json(&s.spec)?;
        self.tx(|c| {
            let kept = c.row(
                "SELECT spec, chatbot_id FROM knowledge_sources WHERE source_id = ?1",
                args![s.source_id],
            )?;
            match kept {
                Some(r) if r.get::<String>(0)? == spec && r.get::<String>(1)? == s.chatbot_id => {
                    c.exec(
                        "UPDATE knowledge_sources SET from_config = ?2 WHERE source_id = ?1",
                        args![s.source_id, s.from_config],
                    )?;
                }
                Some(_) => {
                    c.exec(
                        "UPDATE knowledge_sources SET spec = ?2, status = ?3, error = NULL, from_config = ?4, lease_until = 0 WHERE source_id = ?1",
                        args![s.source_id, spec, s.status.as_str(), s.from_config],
                    )?;
                }
                None => {
                    // Instances starting together put the configuration's sources at once: the
                    // first one's row stands.
                    c.exec(
                        &format!("INSERT INTO knowledge_sources ({SOURCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (source_id) DO NOTHING"),
                        args![s.source_id, s.chatbot_id, spec, s.status.as_str(), s.documents, s.last_synced_at, s.error, s.created_at, s.from_config],
                    )?;
                }
            }
            Ok(())
        })
    }

    fn sources(&self, chatbot_id: &str) -> Result<Vec<SourceRecord>> {
        self.rows(
            &format!("SELECT {SOURCE_COLUMNS} FROM knowledge_sources WHERE chatbot_id = ?1 ORDER BY created_at, source_id"),
            args![chatbot_id],
        )?
        .iter()
        .map(source_of)
        .collect()
    }

    fn source(&self, chatbot_id: &str, source_id: &str) -> Result<Option<SourceRecord>> {
        self.row(
            &format!("SELECT {SOURCE_COLUMNS} FROM knowledge_sources WHERE chatbot_id = ?1 AND source_id = ?2"),
            args![chatbot_id, source_id],
        )?
        .as_ref()
        .map(source_of)
        .transpose()
    }

    fn delete_source(&self, chatbot_id: &str, source_id: &str) -> Result<bool> {
        self.tx(|c| {
            let gone = c.exec(
                "DELETE FROM knowledge_sources WHERE chatbot_id = ?1 AND source_id = ?2",
                args![chatbot_id, source_id],
            )? > 0;
            if gone {
                c.exec(
                    "DELETE FROM knowledge_documents WHERE source_id = ?1",
                    args![source_id],
                )?;
                bump(c, chatbot_id)?;
            }
            Ok(gone)
        })
    }

    fn queue_source(&self, chatbot_id: &str, source_id: &str) -> Result<bool> {
        Ok(self.exec(
            "UPDATE knowledge_sources SET status = 'queued', lease_until = 0 WHERE chatbot_id = ?1 AND source_id = ?2",
            args![chatbot_id, source_id],
        )? > 0)
    }

    fn claim_sources(
        &self,
        now: u64,
        due_before: u64,
        lease: u64,
        limit: usize,
    ) -> Result<Vec<SourceRecord>> {
        self.tx(|c| {
            let sql = format!(
                "SELECT {SOURCE_COLUMNS} FROM knowledge_sources WHERE lease_until <= ?1 AND (status IN ('queued', 'syncing') OR last_synced_at IS NULL OR last_synced_at <= ?2) ORDER BY created_at, source_id LIMIT ?3{}",
                c.dialect().skip_locked()
            );
            let due = c
                .rows(&sql, args![now, due_before, limit as u64])?
                .iter()
                .map(source_of)
                .collect::<Result<Vec<_>>>()?;
            for s in &due {
                c.exec(
                    "UPDATE knowledge_sources SET status = 'syncing', lease_until = ?2 WHERE source_id = ?1",
                    args![s.source_id, now + lease],
                )?;
            }
            Ok(due
                .into_iter()
                .map(|s| SourceRecord {
                    status: SourceStatus::Syncing,
                    ..s
                })
                .collect())
        })
    }

    fn finish_sync(
        &self,
        source_id: &str,
        status: SourceStatus,
        error: Option<&str>,
        documents: Option<&[DocumentRecord]>,
        now: u64,
    ) -> Result<()> {
        let encoded = documents
            .map(|docs| {
                docs.iter()
                    .map(serde_json::to_string)
                    .collect::<std::result::Result<Vec<_>, _>>()
            })
            .transpose()?;
        self.tx(|c| {
            // The source's row is locked (PostgreSQL) while its documents are replaced: two
            // instances that read the same file at start take turns instead of colliding.
            let lock = format!(
                "SELECT chatbot_id FROM knowledge_sources WHERE source_id = ?1{}",
                c.dialect().for_update()
            );
            let Some(chatbot_id) = c
                .row(&lock, args![source_id])?
                .map(|r| r.get::<String>(0))
                .transpose()?
            else {
                return Ok(()); // deleted while it synced
            };
            if let Some(docs) = &encoded {
                c.exec(
                    "DELETE FROM knowledge_documents WHERE source_id = ?1",
                    args![source_id],
                )?;
                for (seq, doc) in docs.iter().enumerate() {
                    c.exec(
                        "INSERT INTO knowledge_documents (source_id, seq, document) VALUES (?1, ?2, ?3)",
                        args![source_id, seq as u64, doc],
                    )?;
                }
                c.exec(
                    "UPDATE knowledge_sources SET documents = ?2 WHERE source_id = ?1",
                    args![source_id, docs.len() as u64],
                )?;
                bump(c, &chatbot_id)?;
            }
            c.exec(
                "UPDATE knowledge_sources SET status = ?2, error = ?3, last_synced_at = ?4, lease_until = 0 WHERE source_id = ?1",
                args![source_id, status.as_str(), error, now],
            )?;
            Ok(())
        })
    }

    fn documents(&self, source_id: &str) -> Result<Vec<DocumentRecord>> {
        self.rows(
            "SELECT document FROM knowledge_documents WHERE source_id = ?1 ORDER BY seq",
            args![source_id],
        )?
        .iter()
        .map(|r| Ok(serde_json::from_str(&r.get::<String>(0)?)?))
        .collect()
    }

    fn knowledge(&self, chatbot_id: &str) -> Result<Vec<(String, DocumentRecord)>> {
        self.rows(
            "SELECT d.source_id, d.document FROM knowledge_documents d JOIN knowledge_sources s ON s.source_id = d.source_id WHERE s.chatbot_id = ?1 ORDER BY s.created_at, s.source_id, d.seq",
            args![chatbot_id],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, serde_json::from_str(&r.get::<String>(1)?)?)))
        .collect()
    }

    fn knowledge_version(&self, chatbot_id: &str) -> Result<u64> {
        Ok(self
            .row(
                "SELECT version FROM knowledge_versions WHERE chatbot_id = ?1",
                args![chatbot_id],
            )?
            .map(|r| r.get(0))
            .transpose()?
            .unwrap_or(0))
    }

    fn put_unanswered(&self, q: &Unanswered) -> Result<()> {
        self.exec(
            "INSERT INTO unanswered (chatbot_id, visitor_id, question, lang, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![q.chatbot_id, q.visitor_id, q.question, q.lang, q.created_at],
        )?;
        Ok(())
    }

    fn unanswered(&self, chatbot_id: &str, limit: usize) -> Result<Vec<Unanswered>> {
        self.rows(
            "SELECT chatbot_id, visitor_id, question, lang, created_at FROM unanswered WHERE chatbot_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            args![chatbot_id, limit as u64],
        )?
        .iter()
        .map(|r| {
            Ok(Unanswered {
                chatbot_id: r.get(0)?,
                visitor_id: r.get(1)?,
                question: r.get(2)?,
                lang: r.get(3)?,
                created_at: r.get(4)?,
            })
        })
        .collect()
    }
}
