//! The page's wasm binary (built by trunk, loaded by `boot.js`): see `page.rs`.

fn main() {
    #[cfg(target_arch = "wasm32")]
    batchlab_web::page::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("batchlab-web runs in a browser: build it with scripts/build-web.sh");
}
