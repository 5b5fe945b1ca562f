//! Files the visitor picks: read from the `<input type=file>` that picked them, as base64.

use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

use crate::logic::i18n::t;

/// Read a picked file as base64 (via `FileReader.readAsDataURL`).
pub async fn read_base64(file: &File) -> Result<String, String> {
    let reader =
        web_sys::FileReader::new().map_err(|_| t("This browser cannot read files.").to_owned())?;
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(&resolve));
        reader.set_onerror(Some(&reject));
    });
    reader
        .read_as_data_url(file)
        .map_err(|_| t("The file could not be read.").to_owned())?;
    wasm_bindgen_futures::JsFuture::from(done)
        .await
        .map_err(|_| t("The file could not be read.").to_owned())?;
    let url = reader
        .result()
        .ok()
        .and_then(|r| r.as_string())
        .ok_or_else(|| t("The file could not be read.").to_owned())?;
    url.split_once(',')
        .map(|(_, data)| data.to_owned())
        .ok_or_else(|| t("The file could not be read.").into())
}

/// The files the `change` event's input picked; the input is emptied.
pub fn picked_files(ev: &web_sys::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return vec![];
    };
    let picked = match input.files() {
        Some(files) => (0..files.length()).filter_map(|i| files.get(i)).collect(),
        None => vec![],
    };
    input.set_value(""); // so picking the same file again fires `change` again
    picked
}
