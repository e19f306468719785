//! The wasmtime host for the core ABI (`policy/src/abi/core.rs`): one fresh instance per call
//! (the module keeps no state), a fuel budget and a memory cap per call. A trap, an exhausted
//! limit or a malformed answer is an error value, never a crash of the host.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Config, Engine, Instance, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc};

/// Per-call limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wasm instructions (roughly) one call may execute.
    pub fuel: u64,
    /// Largest linear memory one call may grow to, in bytes.
    pub max_memory: usize,
}

impl Default for Limits {
    /// 20 billion units: the largest corpus and peer-suite inputs need under a tenth of it,
    /// and wasmtime burns it in about 10–20 s on this class of machine, so a hostile input
    /// costs seconds, not minutes. 2 GiB of memory: a 4 GiB wasm32 space halved.
    fn default() -> Self {
        Self { fuel: 20_000_000_000, max_memory: 2 << 30 }
    }
}

/// Why a call through the module failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The module could not be compiled or instantiated, or lacks an export.
    Load(String),
    /// The module speaks another ABI version.
    Version(i32),
    /// The call trapped (including fuel or memory exhaustion).
    Trap(String),
    /// The answer was not where or what the ABI says.
    BadAnswer(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Load(e) => write!(f, "cannot load the wasm module: {e}"),
            HostError::Version(v) => write!(f, "the wasm module speaks core ABI version {v}; this host speaks 1"),
            HostError::Trap(e) => write!(f, "the wasm module trapped: {e}"),
            HostError::BadAnswer(e) => write!(f, "the wasm module gave a malformed answer: {e}"),
        }
    }
}

impl std::error::Error for HostError {}

struct State {
    limits: StoreLimits,
}

/// `$XDG_CACHE_HOME/netreach/VERSION/wasm` (or `~/.cache/…`).
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("netreach").join(env!("CARGO_PKG_VERSION")).join("wasm"))
}

/// A key for the compiled form of `bytes` (wasmtime itself refuses code compiled by another
/// version or configuration; the file is then compiled and written again).
fn module_key(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: the same on every run of one build.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Write `code` to `file` through a temporary file and a rename, so a concurrent run never
/// reads half a file.
fn store_atomically(file: &Path, code: &[u8]) {
    let Some(dir) = file.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, code).is_ok() && std::fs::rename(&tmp, file).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A compiled core module, ready for calls.
pub struct WasmHost {
    engine: Engine,
    module: Module,
    linker: Linker<State>,
    limits: Limits,
}

struct Exports {
    memory: wasmtime::Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    check: TypedFunc<(u32, u32), i64>,
    rules: TypedFunc<(), i64>,
}

impl WasmHost {
    /// Compile the embedded core artifact.
    pub fn core(limits: Limits) -> Result<Self, HostError> {
        Self::new(crate::artifacts::CORE, limits)
    }

    /// The embedded core artifact, compiled once per version into the user's cache folder and
    /// loaded from there afterwards (compiling costs seconds and hundreds of MB; loading,
    /// milliseconds). A cache that cannot be read or written only costs the compile.
    pub fn core_cached(limits: Limits) -> Result<Self, HostError> {
        Self::cached(crate::artifacts::CORE, limits, cache_dir().as_deref())
    }

    /// Compile a core-ABI module and check its version.
    pub fn new(bytes: &[u8], limits: Limits) -> Result<Self, HostError> {
        Self::cached(bytes, limits, None)
    }

    /// [`WasmHost::new`], keeping the compiled code in `cache` (a folder) keyed by the module's
    /// hash, wasmtime's version and the engine settings.
    #[allow(unsafe_code)] // deserializing compiled code: see the SAFETY note below
    pub fn cached(bytes: &[u8], limits: Limits, cache: Option<&Path>) -> Result<Self, HostError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| HostError::Load(e.to_string()))?;
        let file = cache.map(|dir| dir.join(format!("core-{:016x}.cwasm", module_key(bytes))));
        // SAFETY: the file is one this host wrote with `Module::serialize` for the same engine
        // settings (wasmtime refuses a file from another version or configuration); it lives
        // in the user's own cache folder, which is as trusted as the binary itself.
        let cached = file.as_deref().filter(|f| f.is_file()).and_then(|f| unsafe { Module::deserialize_file(&engine, f) }.ok());
        let module = match cached {
            Some(m) => m,
            None => {
                let m = Module::new(&engine, bytes).map_err(|e| HostError::Load(e.to_string()))?;
                if let (Some(f), Ok(code)) = (&file, m.serialize()) {
                    store_atomically(f, &code);
                }
                m
            }
        };
        let linker = Linker::new(&engine);
        let host = Self { engine, module, linker, limits };
        let (mut store, instance) = host.instantiate()?;
        let version = instance
            .get_typed_func::<(), i32>(&mut store, "netreach_abi_version")
            .map_err(|e| HostError::Load(e.to_string()))?
            .call(&mut store, ())
            .map_err(|e| HostError::Trap(e.to_string()))?;
        if version != 1 {
            return Err(HostError::Version(version));
        }
        Ok(host)
    }

    fn instantiate(&self) -> Result<(Store<State>, Instance), HostError> {
        let limits = StoreLimitsBuilder::new().memory_size(self.limits.max_memory).instances(1).build();
        let mut store = Store::new(&self.engine, State { limits });
        store.limiter(|s| &mut s.limits);
        store.set_fuel(self.limits.fuel).map_err(|e| HostError::Load(e.to_string()))?;
        let instance = self.linker.instantiate(&mut store, &self.module).map_err(|e| HostError::Load(e.to_string()))?;
        Ok((store, instance))
    }

    fn exports(store: &mut Store<State>, instance: &Instance) -> Result<Exports, HostError> {
        let load = |e: wasmtime::Error| HostError::Load(e.to_string());
        Ok(Exports {
            memory: instance.get_memory(&mut *store, "memory").ok_or_else(|| HostError::Load("no exported memory".into()))?,
            alloc: instance.get_typed_func(&mut *store, "netreach_alloc").map_err(load)?,
            free: instance.get_typed_func(&mut *store, "netreach_free").map_err(load)?,
            check: instance.get_typed_func(&mut *store, "netreach_check").map_err(load)?,
            rules: instance.get_typed_func(&mut *store, "netreach_rules").map_err(load)?,
        })
    }

    /// Run `netreach_check` on a JSON request in a fresh instance and return the report JSON.
    pub fn check_json(&self, request: &[u8]) -> Result<String, HostError> {
        self.instance()?.check_json(request)
    }

    /// The rule metadata JSON the module carries.
    pub fn rules_json(&self) -> Result<String, HostError> {
        let mut warm = self.instance()?;
        let packed = warm.x.rules.call(&mut warm.store, ()).map_err(|e| HostError::Trap(format!("{e:#}")))?;
        Self::read_packed(&mut warm.store, &warm.x, packed)
    }

    /// An instance kept warm for several calls (what an admission host does between requests);
    /// each call gets the full fuel budget again. After a trap, make a new one.
    pub fn instance(&self) -> Result<WarmInstance, HostError> {
        let (mut store, instance) = self.instantiate()?;
        let x = Self::exports(&mut store, &instance)?;
        Ok(WarmInstance { store, x, fuel: self.limits.fuel })
    }

    fn read_packed(store: &mut Store<State>, x: &Exports, packed: i64) -> Result<String, HostError> {
        let packed = packed as u64;
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let data = x.memory.data(&*store);
        let bytes = data
            .get(ptr..ptr.saturating_add(len))
            .ok_or_else(|| HostError::BadAnswer(format!("result {ptr}+{len} lies outside memory ({} bytes)", data.len())))?
            .to_vec();
        // A warm instance is called again: the result buffer must go back.
        x.free.call(&mut *store, (ptr as u32, len as u32)).map_err(|e| HostError::Trap(format!("{e:#}")))?;
        String::from_utf8(bytes).map_err(|e| HostError::BadAnswer(format!("result is not UTF-8: {e}")))
    }
}

/// A live instance of the core module; see [`WasmHost::instance`].
pub struct WarmInstance {
    store: Store<State>,
    x: Exports,
    fuel: u64,
}

impl WarmInstance {
    /// Run `netreach_check` on a JSON request and return the report JSON.
    pub fn check_json(&mut self, request: &[u8]) -> Result<String, HostError> {
        self.store.set_fuel(self.fuel).map_err(|e| HostError::Load(e.to_string()))?;
        let (store, x) = (&mut self.store, &self.x);
        let len = u32::try_from(request.len()).map_err(|_| HostError::BadAnswer("request larger than 4 GiB".into()))?;
        let trap = |e: wasmtime::Error| HostError::Trap(format!("{e:#}"));
        let ptr = x.alloc.call(&mut *store, len).map_err(trap)?;
        if ptr == 0 && len > 0 {
            return Err(HostError::Trap("netreach_alloc returned 0 (out of memory)".into()));
        }
        x.memory
            .write(&mut *store, ptr as usize, request)
            .map_err(|e| HostError::BadAnswer(format!("netreach_alloc gave an out-of-bounds buffer: {e}")))?;
        let packed = x.check.call(&mut *store, (ptr, len)).map_err(trap)?;
        x.free.call(&mut *store, (ptr, len)).map_err(trap)?;
        WasmHost::read_packed(store, x, packed)
    }
}
