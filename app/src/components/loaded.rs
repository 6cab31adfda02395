//! A page's data, read on the server and carried to the browser inside the page.
//!
//! The browser reads the same types from two places: from the page, when it hydrates (a
//! resource's value), and from a server function's answer, when it fetches again. Leptos'
//! default resource codec reads the first with `serde_json::from_str`, server functions
//! read the second with `from_slice`, and each is a complete JSON reader per type: every
//! type's reader came twice in the WASM bundle. This codec reads both the same way.

use std::future::Future;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON in the page, read as server functions read their answers.
pub struct JsonCodec;

impl<T: Serialize> codee::Encoder<T> for JsonCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for JsonCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A resource of the page's data.
pub type Loaded<T> = Resource<T, JsonCodec>;

/// `Resource::new`, with the codec above.
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
