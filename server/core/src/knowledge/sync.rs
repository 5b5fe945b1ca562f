//! Sources in, knowledge out: what the site owner adds (`POST /api/v1/chat/sources`, or the
//! configuration's `[[chatbot.sources]]` and `knowledge_base`) is checked, kept in the store
//! and synced by a background worker; each chatbot's [`KnowledgeBase`] is rebuilt whenever its
//! documents change, here or (several instances on PostgreSQL) on another instance.
//!
//! The worker claims due sources with a lease (queued ones, interrupted ones, ones last synced
//! longer ago than the re-sync interval), so with several instances each sync runs once. A sync
//! that fails as a whole keeps the documents of the last good one: the assistant never loses
//! what it knew because a site was down for a minute.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;

use super::base::KnowledgeBase;
use super::fetch::{self, FetchPolicy};
use super::products::check_catalogue;
use crate::model::knowledge::{
    DocumentRecord, DocumentState, MAX_FILE_BYTES, MAX_PAGES, SourceRecord, SourceSpec,
    SourceStatus,
};
use crate::{Core, CoreError, logged};

/// How sources are fetched and how often they are read again.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    pub policy: FetchPolicy,
    /// A source is synced again this long after its last sync (daily by default).
    pub resync: Duration,
    /// How often an instance looks for sources to sync and for knowledge another instance
    /// changed.
    pub poll: Duration,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            policy: FetchPolicy::default(),
            resync: Duration::from_secs(24 * 3600),
            poll: Duration::from_secs(2),
        }
    }
}

/// Each chatbot's knowledge, swapped whole when rebuilt (readers keep the one they hold).
#[derive(Default)]
pub struct Library {
    bases: RwLock<HashMap<String, Arc<KnowledgeBase>>>,
    /// Wakes the worker when a source is queued.
    wake: tokio::sync::Notify,
}

/// A sync is given this long before another instance may take its source over.
const LEASE: Duration = Duration::from_secs(15 * 60);

/// The configuration's sources get ids made from what they are, so a restart with the same
/// file finds the same sources (and keeps their documents).
pub fn config_source_id(chatbot_id: &str, spec: &SourceSpec) -> String {
    use sha2::Digest as _;
    let json = serde_json::to_string(spec).unwrap_or_default();
    let hash = sha2::Sha256::digest(format!("{chatbot_id}\n{json}").as_bytes());
    format!("src_cfg_{}", crate::model::ids::hex(&hash[..8]))
}

fn new_source_id() -> String {
    crate::model::ids::new_id("src")
}

impl Core {
    /// What the chatbot knows now.
    pub fn knowledge_of(&self, chatbot_id: &str) -> Result<Arc<KnowledgeBase>, CoreError> {
        self.chatbot(chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))?;
        let bases = self.library.bases.read().unwrap_or_else(|e| e.into_inner());
        Ok(bases.get(chatbot_id).cloned().unwrap_or_default())
    }

    /// Rebuild the chatbot's knowledge when the store has a newer version of it.
    pub fn refresh_knowledge(&self, chatbot_id: &str) -> Result<(), CoreError> {
        let version = self.store.knowledge_version(chatbot_id)?;
        let current = self.knowledge_of(chatbot_id)?;
        if current.version == version && (version > 0 || !current.is_empty()) {
            return Ok(());
        }
        let documents = self.store.knowledge(chatbot_id)?;
        let base = Arc::new(KnowledgeBase::build(version, documents));
        tracing::info!("knowledge of {chatbot_id}: {base:?}");
        let mut bases = self
            .library
            .bases
            .write()
            .unwrap_or_else(|e| e.into_inner());
        // Another refresh may have built a newer one meanwhile.
        if bases.get(chatbot_id).is_none_or(|b| b.version <= version) {
            bases.insert(chatbot_id.to_owned(), base);
        }
        Ok(())
    }

    /// On start: the configuration's sources replace the ones it had before (added, changed,
    /// removed); files, curated answers and feeds on disk are read at once (a file that does
    /// not read stops the start, naming it), websites and remote feeds are queued; then every
    /// chatbot's knowledge is built.
    pub fn install_config_sources(&self) -> Result<(), String> {
        for bot in &self.chatbots {
            let wanted: Vec<(String, SourceSpec)> = bot
                .sources
                .iter()
                .map(|spec| (config_source_id(&bot.id, spec), spec.clone()))
                .collect();
            let kept = self
                .store
                .sources(&bot.id)
                .map_err(|e| format!("chatbot {}: sources: {e}", bot.id))?;
            for old in kept.iter().filter(|s| s.from_config) {
                if !wanted.iter().any(|(id, _)| *id == old.source_id) {
                    self.store
                        .delete_source(&bot.id, &old.source_id)
                        .map_err(|e| format!("chatbot {}: sources: {e}", bot.id))?;
                }
            }
            for (source_id, spec) in wanted {
                let record = SourceRecord {
                    source_id: source_id.clone(),
                    chatbot_id: bot.id.clone(),
                    spec: spec.clone(),
                    status: SourceStatus::Queued,
                    documents: 0,
                    last_synced_at: None,
                    error: None,
                    created_at: self.clock.unix_ms(),
                    from_config: true,
                };
                self.store
                    .put_source(&record)
                    .map_err(|e| format!("chatbot {}: sources: {e}", bot.id))?;
                if let Some(read) = read_local(&spec, &bot.default_language) {
                    let docs = read.map_err(|e| {
                        format!("chatbot {}: source {}: {e}", bot.id, describe(&spec))
                    })?;
                    self.store
                        .finish_sync(
                            &source_id,
                            SourceStatus::Ready,
                            None,
                            Some(&docs),
                            self.clock.unix_ms(),
                        )
                        .map_err(|e| format!("chatbot {}: sources: {e}", bot.id))?;
                }
            }
            self.refresh_knowledge(&bot.id)
                .map_err(|e| format!("chatbot {}: knowledge: {e}", bot.id))?;
        }
        Ok(())
    }

    /// Add a source (`POST /sources`): checked now (a URL that is not http(s) or points at a
    /// private address, a file that is not base64 or too large, an empty answer), then queued.
    pub async fn add_source(
        &self,
        chatbot_id: &str,
        spec: SourceSpec,
    ) -> Result<SourceRecord, CoreError> {
        self.chatbot(chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))?;
        self.check_source(&spec).await.map_err(|why| {
            // "data: not base64" names its field; a URL's refusal is about `url`.
            let fields = [
                "data",
                "filename",
                "path",
                "max_pages",
                "question and answer",
            ];
            match why.split_once(": ") {
                Some((field, message)) if fields.contains(&field) => {
                    CoreError::invalid(field, message)
                }
                _ => CoreError::invalid("url", why),
            }
        })?;
        let record = SourceRecord {
            source_id: new_source_id(),
            chatbot_id: chatbot_id.to_owned(),
            spec,
            status: SourceStatus::Queued,
            documents: 0,
            last_synced_at: None,
            error: None,
            created_at: self.clock.unix_ms(),
            from_config: false,
        };
        self.store.put_source(&record)?;
        self.library.wake.notify_one();
        Ok(record)
    }

    async fn check_source(&self, spec: &SourceSpec) -> Result<(), String> {
        let policy = &self.settings.sources.policy;
        match spec {
            SourceSpec::Website { url, max_pages, .. } => {
                if max_pages.is_some_and(|n| n == 0 || n > MAX_PAGES) {
                    return Err(format!("max_pages: from 1 to {MAX_PAGES}"));
                }
                fetch::check_url(url, policy).await.map(|_| ())
            }
            SourceSpec::ProductFeed { url, path, .. } => {
                if path.is_some() {
                    return Err(
                        "path: only the configuration file may name a file on the server".into(),
                    );
                }
                fetch::check_url(url, policy).await.map(|_| ())
            }
            SourceSpec::File {
                filename,
                data,
                path,
                ..
            } => {
                if path.is_some() {
                    return Err("path: only the configuration file may name a file on the server; send the file in data (base64)".into());
                }
                if filename.trim().is_empty() {
                    return Err("filename: required".into());
                }
                // Base64 is 4 characters for 3 bytes: refuse before decoding anything huge.
                if data.len() / 4 * 3 > MAX_FILE_BYTES + 3 {
                    return Err(format!(
                        "data: the file is {:.1} MB; the limit is {} MB",
                        (data.len() / 4 * 3) as f64 / 1e6,
                        MAX_FILE_BYTES / (1024 * 1024)
                    ));
                }
                let bytes = decode(data)?;
                if bytes.is_empty() {
                    return Err("data: the file is empty".into());
                }
                Ok(())
            }
            SourceSpec::Qa { question, answer } => {
                if question.trim().is_empty() || answer.trim().is_empty() {
                    Err("question and answer: both required".into())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The chatbot's sources, oldest first.
    pub fn sources(&self, chatbot_id: &str) -> Result<Vec<SourceRecord>, CoreError> {
        Ok(self.store.sources(chatbot_id)?)
    }

    /// A source and its documents.
    pub fn source(
        &self,
        chatbot_id: &str,
        source_id: &str,
    ) -> Result<(SourceRecord, Vec<DocumentRecord>), CoreError> {
        let source = self
            .store
            .source(chatbot_id, source_id)?
            .ok_or_else(|| CoreError::NotFound("No such source".into()))?;
        let documents = self.store.documents(source_id)?;
        Ok((source, documents))
    }

    /// Sync a source again now.
    pub fn queue_sync(&self, chatbot_id: &str, source_id: &str) -> Result<SourceRecord, CoreError> {
        if !self.store.queue_source(chatbot_id, source_id)? {
            return Err(CoreError::NotFound("No such source".into()));
        }
        self.library.wake.notify_one();
        self.store
            .source(chatbot_id, source_id)?
            .ok_or_else(|| CoreError::NotFound("No such source".into()))
    }

    /// Remove a source: its passages leave the chatbot's knowledge before this returns.
    pub fn delete_source(&self, chatbot_id: &str, source_id: &str) -> Result<(), CoreError> {
        if !self.store.delete_source(chatbot_id, source_id)? {
            return Err(CoreError::NotFound("No such source".into()));
        }
        self.refresh_knowledge(chatbot_id)
    }

    /// Keep a question the assistant could not answer, for the site owner (a failing database
    /// only costs the record, logged).
    pub fn keep_unanswered(&self, key: &crate::ConversationKey, question: &str, lang: &str) {
        let record = crate::model::knowledge::Unanswered {
            chatbot_id: key.chatbot_id.clone(),
            visitor_id: key.visitor_id.clone(),
            question: question.to_owned(),
            lang: lang.to_owned(),
            created_at: self.clock.unix_ms(),
        };
        logged("an unanswered question", self.store.put_unanswered(&record));
    }

    /// The questions the assistant could not answer, newest first.
    pub fn unanswered(
        &self,
        chatbot_id: &str,
        limit: usize,
    ) -> Result<Vec<crate::model::knowledge::Unanswered>, CoreError> {
        Ok(self.store.unanswered(chatbot_id, limit)?)
    }

    /// Sync what is due, then wait for more (a queued source wakes it; otherwise it looks
    /// every `poll`, also for knowledge another instance changed). Runs as long as the server.
    pub async fn run_sources_worker(self: Arc<Self>) {
        loop {
            let now = self.clock.unix_ms();
            let resync = self.settings.sources.resync.as_millis() as u64;
            let due = self
                .store
                .claim_sources(now, now.saturating_sub(resync), LEASE.as_millis() as u64, 1)
                .unwrap_or_else(|e| {
                    tracing::warn!("sources: {e}");
                    vec![]
                });
            let busy = !due.is_empty();
            for source in due {
                self.sync(&source).await;
            }
            for bot in &self.chatbots {
                logged(
                    "knowledge refresh",
                    self.refresh_knowledge(&bot.id)
                        .map_err(|e| crate::model::StoreError::other(e.to_string())),
                );
            }
            if !busy {
                let _ =
                    tokio::time::timeout(self.settings.sources.poll, self.library.wake.notified())
                        .await;
            }
        }
    }

    /// One sync of a claimed source, its outcome kept and the knowledge rebuilt.
    async fn sync(&self, source: &SourceRecord) {
        let started = std::time::Instant::now();
        let result = self.fetch_source(source).await;
        let now = self.clock.unix_ms();
        let stored = match &result {
            Ok(docs) => {
                let ok = docs.iter().filter(|d| d.state == DocumentState::Ok).count();
                if ok == 0 && !docs.is_empty() {
                    let why = docs
                        .iter()
                        .find_map(|d| d.error.clone())
                        .unwrap_or_default();
                    let error = format!("no document could be read (the first: {why})");
                    self.store.finish_sync(
                        &source.source_id,
                        SourceStatus::Failed,
                        Some(&error),
                        Some(docs),
                        now,
                    )
                } else {
                    self.store.finish_sync(
                        &source.source_id,
                        SourceStatus::Ready,
                        None,
                        Some(docs),
                        now,
                    )
                }
            }
            Err(e) => {
                self.store
                    .finish_sync(&source.source_id, SourceStatus::Failed, Some(e), None, now)
            }
        };
        match (&result, stored) {
            (_, Err(e)) => tracing::warn!("source {}: not kept: {e}", source.source_id),
            (Ok(docs), Ok(())) => tracing::info!(
                "source {} synced: {} documents in {:?}",
                source.source_id,
                docs.len(),
                started.elapsed()
            ),
            (Err(e), Ok(())) => tracing::warn!("source {} failed: {e}", source.source_id),
        }
        if let Err(e) = self.refresh_knowledge(&source.chatbot_id) {
            tracing::warn!("knowledge of {}: {e}", source.chatbot_id);
        }
    }

    /// Read a source into documents (the network for websites and remote feeds).
    async fn fetch_source(&self, source: &SourceRecord) -> Result<Vec<DocumentRecord>, String> {
        let lang = self
            .chatbot(&source.chatbot_id)
            .map(|c| c.default_language.as_str())
            .unwrap_or("en");
        if !source.spec.is_remote() {
            // Reading a PDF is CPU work (and a hostile one may be slow): off the async threads.
            let (spec, lang) = (source.spec.clone(), lang.to_owned());
            return tokio::task::spawn_blocking(move || read_local(&spec, &lang))
                .await
                .map_err(|e| format!("the file could not be read: {e}"))?
                .unwrap_or_else(|| Err("not a local source".into()));
        }
        let policy = &self.settings.sources.policy;
        let http = fetch::client(policy)?;
        match &source.spec {
            SourceSpec::Website {
                url,
                max_pages,
                include,
                exclude,
            } => {
                let previous = self
                    .store
                    .documents(&source.source_id)
                    .map_err(|e| e.to_string())?;
                fetch::website(&http, url, *max_pages, include, exclude, &previous, policy).await
            }
            SourceSpec::ProductFeed { url, format, .. } => {
                let doc = fetch::product_feed(&http, url, *format, policy).await?;
                check_catalogue(&doc.products)?;
                Ok(vec![doc])
            }
            SourceSpec::File { .. } | SourceSpec::Qa { .. } => unreachable!("read locally"),
        }
    }
}

/// A source read without the network (a file sent or on disk, a curated answer, a feed on
/// disk); `None` for websites and remote feeds.
fn read_local(
    spec: &SourceSpec,
    fallback_lang: &str,
) -> Option<Result<Vec<DocumentRecord>, String>> {
    Some(match spec {
        SourceSpec::Website { .. } | SourceSpec::ProductFeed { path: None, .. } => return None,
        SourceSpec::File {
            filename,
            mime,
            data,
            path,
            url,
        } => (|| {
            let bytes = match path {
                Some(path) => read_file(path)?,
                None => decode(data)?,
            };
            Ok(vec![fetch::file(filename, mime, &bytes, url.as_deref())?])
        })(),
        SourceSpec::Qa { question, answer } => {
            let mut doc = fetch::qa(question, answer);
            // A curated answer is short: its language is the chatbot's unless it plainly says.
            let lang = super::lang::detect_reliable(&format!("{question}\n{answer}"))
                .map(|l| l.code().to_owned())
                .unwrap_or_else(|| fallback_lang.to_owned());
            doc.passages.iter_mut().for_each(|p| p.lang = lang.clone());
            Ok(vec![doc])
        }
        SourceSpec::ProductFeed {
            url,
            format,
            path: Some(path),
        } => (|| {
            let bytes = read_file(path)?;
            let products = fetch::products(*format, &bytes, url)?;
            check_catalogue(&products)?;
            Ok(vec![DocumentRecord {
                url: url.clone(),
                title: path.rsplit('/').next().unwrap_or(path).to_owned(),
                products,
                ..Default::default()
            }])
        })(),
    })
}

fn decode(data: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("data: not base64 ({e})"))
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{path} is {:.1} MB; the limit is {} MB",
            bytes.len() as f64 / 1e6,
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

/// A source in a few words, for messages.
fn describe(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::File {
            path: Some(path), ..
        } => path.clone(),
        SourceSpec::File { filename, .. } => filename.clone(),
        SourceSpec::ProductFeed {
            path: Some(path), ..
        } => path.clone(),
        other => other.url().unwrap_or(other.type_name()).to_owned(),
    }
}
