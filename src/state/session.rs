//! The visitor's session with the chat service: start-up (who the visitor is, the token, the
//! chatbot's configuration, the restored conversation), identifying the visitor, rating the
//! chat, deleting their data. The top of the page's state: it holds every other handle
//! (`state::provide` gives each component the narrow ones it reads).

use dgbot_protocol::api::{
    ActionRequest, ActionResponse, ChatConfig, DeleteResponse, IdentifyRequest, IdentifyResponse,
    RateRequest, RateResponse,
};
use dgbot_protocol::bridge::FrameAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};

use crate::logic::errors::{StartupError, TransportError};
use crate::logic::i18n::t;
use crate::logic::launch::LaunchParams;
use crate::services::api::Api;
use crate::services::bridge::HostBridge;
use crate::services::transport;
use crate::state::answer::{Answering, preload_text};
use crate::state::composer::Composer;
use crate::state::host::Host;
use crate::state::livechat::Livechat;
use crate::state::transcript::{Transcript, history_chunk};

#[derive(Clone, Copy)]
pub struct Session {
    /// The chatbot's configuration (`GET /config`), once loaded.
    pub config: RwSignal<Option<ChatConfig>>,
    pub startup_error: RwSignal<Option<StartupError>>,
    /// Start-up has finished (token and config loaded, or failed): host commands run now.
    pub started: RwSignal<bool>,
    pub composer: Composer,
}

impl Session {
    /// The page's state, every handle, for the chat the loader launched with `params`.
    pub fn new(params: LaunchParams) -> Self {
        let bridge = StoredValue::new(HostBridge::new(params.host.clone()));
        let api = Api::new(params.chatbot_id.clone(), bridge);
        let config = RwSignal::new(None);
        let host = Host::new(StoredValue::new(params), bridge, config);
        let transcript = Transcript::new(api, host);
        Session {
            config,
            startup_error: RwSignal::new(None),
            started: RwSignal::new(false),
            composer: Composer::new(config, Livechat::new(Answering::new(transcript))),
        }
    }

    pub fn host(&self) -> Host {
        self.transcript().host
    }

    pub fn transcript(&self) -> Transcript {
        self.composer.livechat.answering.transcript
    }

    /// The API client: visitor id, token, renewal.
    pub fn api(&self) -> Api {
        self.transcript().api
    }

    /// The chatbot's language, for number and currency formatting.
    pub fn language(&self) -> String {
        self.config.with_untracked(|c| {
            c.as_ref()
                .map(|c| c.language.clone())
                .unwrap_or_else(|| "en".into())
        })
    }

    /// Rate the conversation 1–5 (`POST /api/v1/chat/rate`).
    pub async fn rate(
        self,
        rating: u8,
        feedback: Option<String>,
    ) -> Result<RateResponse, TransportError> {
        self.api()
            .post("/rate", &RateRequest { rating, feedback })
            .await
    }

    /// Submit a completed contact form or support ticket (`POST /api/v1/chat/actions`).
    pub async fn submit_action(self, req: ActionRequest) -> Result<ActionResponse, TransportError> {
        self.api().post("/actions", &req).await
    }

    /// Delete everything the server keeps about this visitor (`DELETE /api/v1/chat`), then start
    /// afresh as a new visitor.
    pub async fn delete_my_data(self) -> Result<(), TransportError> {
        let (api, answering) = (self.api(), self.composer.livechat.answering);
        if answering.streaming.get_untracked() {
            answering.stop();
        }
        let _: DeleteResponse = api.delete("").await?;
        api.keep_visitor(None);
        api.drop_token();
        self.transcript().clear();
        self.composer.pending_image.set(None);
        api.authenticate().await?;
        Ok(())
    }

    /// `window.DGbot.identify(user)`: tell the backend who the visitor is on the host site.
    /// When another verified person than the conversation's is identified, the server starts
    /// a new conversation for them (their data is not merged) and the chat starts afresh.
    pub async fn identify(self, user: IdentifyRequest) -> Result<IdentifyResponse, TransportError> {
        let api = self.api();
        let res: IdentifyResponse = api.post("/identify", &user).await?;
        if let Some(token) = res.visitor_token.clone() {
            api.adopt(token);
            self.transcript().clear();
            self.composer.livechat.state.set(Default::default());
        }
        Ok(res)
    }

    /// The loader told us its copy of the visitor id (`None`: it has none).
    pub fn host_visitor(&self, id: Option<String>) {
        self.api().host_visitor(id);
    }

    /// Get a visitor token and the chatbot's config, restore the conversation, then tell the
    /// host page the chat is `ready` (also when start-up failed: commands then fail visibly).
    pub fn start(self) {
        spawn_local(async move {
            if let Err(message) = self.load().await {
                self.startup_error.set(Some(StartupError(message)));
            }
            self.started.set(true);
            let chat_type = self
                .config
                .with_untracked(|c| c.as_ref().map(|c| c.chat_type.clone()));
            let host = self.host();
            host.post(FrameAction::Ready { chat_type });
            host.schedule_popup();
        });
    }

    async fn load(self) -> Result<(), String> {
        let (api, host) = (self.api(), self.host());
        if host.params.with_value(|p| p.chatbot_id.is_empty()) {
            return Err(t("This chat is missing its chatbot id.").into());
        }
        api.recall_visitor().await;
        let returning = api.has_visitor();
        if returning {
            // Their history is fetched, decoded and drawn by the `text` chunk: start fetching
            // it now, beside the token and the configuration.
            spawn_local(async {
                let _ = preload_text().await;
            });
        }
        api.authenticate().await.map_err(|e| e.message())?;
        let text = api.get_text("/config").await.map_err(|e| e.message())?;
        let config: ChatConfig = transport::decode(&text).map_err(|e| e.message())?;
        // The chatbot's look and the visitor's language on the page (`__dgLook`, index.html),
        // and the widget's words in that language.
        if let Ok(look) = js_sys::Reflect::get(&window(), &"__dgLook".into()) {
            let _ = look
                .unchecked_ref::<js_sys::Function>()
                .call1(&JsValue::NULL, &text.into());
        }
        self.config.set(Some(config));
        // Only a visitor we know can have a conversation to restore or a session in progress:
        // a new one loads neither (nor the chunk that decodes and draws a history).
        if returning {
            match history_chunk(self.transcript(), None, Box::new(|| {})).await {
                Ok(restore) => restore.await,
                Err(crate::Unloaded) => {
                    leptos::logging::warn!("dgbot: could not load the conversation history")
                }
            }
            self.composer.livechat.resume_later();
        }
        Ok(())
    }
}
