//! `tests/generated/every_layer.rs` matches what `format::rust_source` writes today. This lives
//! apart from `tests/embed.rs`, which `include!`s the file, so that a stale file that no longer
//! compiles can still be regenerated: `STATIC_NN_REGENERATE=1 cargo test --test embed_fresh`.

mod embed_network;
mod generated_file;

use embed_network::every_layer;
use static_nn::format;

#[test]
fn the_generated_file_is_fresh() {
    generated_file::assert_fresh("every_layer.rs", &source(), "embed_fresh");
}

/// The generated file's whole text.
fn source() -> String {
    let f32_net = every_layer::<f32>(11);
    let f64_net = every_layer::<f64>(12);
    format::rust_source(&f32_net, "pub static EVERY_LAYER_F32: EveryLayer<f32>")
        + &format::rust_source(&f64_net, "pub const EVERY_LAYER_F64: EveryLayer<f64>")
}
