//! Escapes from the code sandbox, each tried by a Python program as an attack that must fail,
//! with the test process (the "agent") and a canary process of the same user still alive and
//! unaffected afterwards: signalling the agent (`kill(-1)`, its pid, the parent), reading
//! `/proc/<agent>/environ`, reading secret files the policy hides, connecting to unix sockets
//! under `/tmp`, `/run` and `/dev/shm`, a `setsid` child outliving its run, and the system
//! calls the filter refuses (ptrace, mount, namespaces, keyrings, BPF, modules, netlink and
//! packet sockets, ...).
//!
//! Run as root they test root mode; run as an unprivileged user (`scripts/sandbox-nonroot-test.sh`)
//! they test the user-namespace mode. Where no isolation is possible a test prints `SKIPPED` and
//! passes, except under `CI=true`, where that is a failure.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use swarm_eval::exec::{CodeRunner, ProgramRun, RunOutcome, SandboxSettings};
use swarm_sandbox::isolation::Isolation;
use swarm_sandbox::subids::ProgramIds;
use swarm_sandbox::{Sandbox, SandboxError};

/// The sandbox of this user's mode, or None (printed as skipped) where none can isolate;
/// under `CI=true` that panics.
fn sandbox_or_skip(test: &str, hidden: Vec<PathBuf>) -> Option<Sandbox> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    match Sandbox::with_hidden_paths(SandboxSettings::default(), hidden) {
        Ok(sandbox) => {
            let expected = if root {
                Isolation::Root
            } else {
                Isolation::UserNamespace
            };
            assert_eq!(sandbox.isolation(), expected);
            println!(
                "{test}: mode {}, programs run as {}",
                expected.name(),
                sandbox.program_ids()
            );
            Some(sandbox)
        }
        Err(SandboxError::NoIsolation { reason }) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "{test}: the sandbox cannot isolate here, and CI must run every mode: {reason}"
            );
            println!(
                "SKIPPED {test} ({} mode): no isolation here: {reason}",
                if root { "root" } else { "non-root" }
            );
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

/// [`sandbox_or_skip`], for a test that needs programs under an id other than the agent's: root
/// mode, or non-root mode where `newuidmap`, `newgidmap` and a subordinate range of this user
/// exist. Elsewhere None (printed as skipped); under `CI=true` that panics.
fn separate_ids_or_skip(test: &str, hidden: Vec<PathBuf>) -> Option<Sandbox> {
    let sandbox = sandbox_or_skip(test, hidden)?;
    if sandbox.program_ids().separate() {
        return Some(sandbox);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{test}: programs run as the agent's own user here ({}), and CI must test the subordinate ids (install uidmap and give this user a range in /etc/subuid and /etc/subgid, as scripts/sandbox-nonroot-test.sh does)",
        sandbox.program_ids()
    );
    println!(
        "SKIPPED {test} (non-root mode): programs run as {}",
        sandbox.program_ids()
    );
    None
}

fn run(sandbox: &Sandbox, program: &str) -> RunOutcome {
    sandbox.run(&ProgramRun {
        program: program.to_owned(),
        stdin: String::new(),
        timeout: Duration::from_secs(20),
    })
}

/// The program's last stdout line as JSON.
fn json_of(out: &RunOutcome) -> Value {
    assert!(out.ok(), "{out:?}");
    let line = out.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}x{nanos}", std::process::id())
}

/// A process of this user, outside the sandbox, holding a secret in its environment; killed
/// when dropped.
struct Canary {
    child: Child,
    secret: String,
}

impl Canary {
    fn start() -> Self {
        let secret = format!("canary-secret-{}", nonce());
        let child = Command::new("sleep")
            .arg("120")
            .env("SWARM_CANARY_SECRET", &secret)
            .spawn()
            .unwrap();
        Self { child, secret }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the canary process was killed"
        );
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder outside every folder the sandbox covers with a tmpfs (`/tmp`, `/run`, ...), that
/// the sandbox's user may read: what it cannot see there, it cannot see because it is hidden.
fn visible_folder(tag: &str) -> PathBuf {
    let base = ["/var/tmp", "/usr/tmp"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_dir())
        .expect("/var/tmp");
    let dir = base.join(format!("swarm-escape-{tag}-{}", nonce()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn write_readable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn a_program_cannot_signal_the_agent_or_its_processes() {
    let Some(sandbox) = sandbox_or_skip("signals", Vec::new()) else {
        return;
    };
    let mut canary = Canary::start();
    let agent = std::process::id();
    let program = format!(
        r#"import os, signal, json
out = {{'uid': os.getuid(), 'pid': os.getpid(), 'ppid': os.getppid()}}
def attempt(name, f):
    try:
        f()
        out[name] = 'ok'
    except OSError as e:
        out[name] = e.errno
if os.getuid() != 0:
    attempt('kill_all', lambda: os.kill(-1, signal.SIGKILL))
attempt('kill_agent', lambda: os.kill({agent}, signal.SIGKILL))
attempt('kill_canary', lambda: os.kill({canary}, signal.SIGKILL))
attempt('kill_parent', lambda: os.kill(os.getppid() or 1, signal.SIGKILL))
attempt('kill_init', lambda: os.kill(1, signal.SIGKILL))
print(json.dumps(out))
"#,
        canary = canary.pid()
    );
    let out = json_of(&run(&sandbox, &program));
    // the program runs in a PID namespace of its own, under its init
    assert_eq!(out["pid"], 2, "{out}");
    assert_ne!(out["uid"], 0, "{out}");
    assert!(out.get("kill_all").is_some(), "{out}");
    for target in ["kill_agent", "kill_canary"] {
        assert_ne!(out[target], "ok", "{target} was signalled: {out}");
        assert_eq!(out[target], libc::ESRCH, "{target}: {out}");
    }
    // the agent (this test) lives, and so does its other process
    canary.assert_alive();
    assert!(run(&sandbox, "print('still running')\n").ok());
}

#[test]
fn a_program_cannot_read_the_agents_environment_or_process_table() {
    let Some(sandbox) = sandbox_or_skip("environ", Vec::new()) else {
        return;
    };
    let mut canary = Canary::start();
    let agent = std::process::id();
    let program = format!(
        r#"import os, json
me = os.getpid()
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
environ = {{}}
for p in pids:
    if p == me:
        continue
    try:
        with open(f'/proc/{{p}}/environ', 'rb') as f:
            environ[p] = [kv.split(b'=')[0].decode() for kv in f.read().split(b'\0') if kv]
    except OSError as e:
        environ[p] = e.errno
direct = {{}}
for p in ({agent}, {canary}):
    try:
        with open(f'/proc/{{p}}/environ', 'rb') as f:
            direct[p] = f.read().decode('latin1')
    except OSError as e:
        direct[p] = e.errno
print(json.dumps({{'pids': pids, 'environ': environ, 'direct': direct}}))
"#,
        canary = canary.pid()
    );
    let raw = run(&sandbox, &program);
    assert!(
        !raw.stdout.contains(&canary.secret),
        "the canary's environment leaked: {raw:?}"
    );
    let out = json_of(&raw);
    // only the run's init and the program itself are in sight
    assert_eq!(out["pids"], serde_json::json!([1, 2]), "{out}");
    // the init is a copy of the agent: its environment must not be readable
    let sandbox_env = ["PATH", "HOME", "TMPDIR", "LANG", "PYTHONIOENCODING"];
    for (pid, seen) in out["environ"].as_object().unwrap() {
        if let Some(keys) = seen.as_array() {
            for key in keys {
                assert!(
                    sandbox_env.contains(&key.as_str().unwrap()),
                    "the environment of pid {pid} leaked ({key}): {out}"
                );
            }
        }
    }
    for (pid, seen) in out["direct"].as_object().unwrap() {
        assert!(seen.is_number(), "/proc/{pid}/environ was read: {out}");
    }
    canary.assert_alive();
}

#[test]
fn secret_files_named_by_the_policy_are_hidden() {
    let dir = visible_folder("secrets");
    let token = dir.join("agent-token");
    let keys = dir.join("keys");
    let key = keys.join("client.key");
    let control = dir.join("public.txt");
    let n = nonce();
    write_readable(&token, &format!("secret-token-{n}"));
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_readable(&key, &format!("secret-key-{n}"));
    write_readable(&control, &format!("public-{n}"));
    let Some(sandbox) = sandbox_or_skip("secrets", vec![token.clone(), keys.clone()]) else {
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    };
    let program = format!(
        r#"import os, json
out = {{}}
for name, path in (('token', {token:?}), ('key', {key:?}), ('control', {control:?})):
    try:
        with open(path) as f:
            out[name] = f.read()
    except OSError as e:
        out[name] = e.errno
try:
    out['keys_listing'] = os.listdir({keys:?})
except OSError as e:
    out['keys_listing'] = e.errno
print(json.dumps(out))
"#,
        token = token.display().to_string(),
        key = key.display().to_string(),
        control = control.display().to_string(),
        keys = keys.display().to_string(),
    );
    let raw = run(&sandbox, &program);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!raw.stdout.contains("secret-"), "a secret leaked: {raw:?}");
    let out = json_of(&raw);
    // the folder is visible: only what the policy names is hidden
    assert_eq!(out["control"], format!("public-{n}"), "{out}");
    assert_eq!(out["token"], "", "a hidden file reads as empty: {out}");
    assert_eq!(out["key"], libc::EACCES, "{out}");
    assert_eq!(out["keys_listing"], libc::EACCES, "{out}");
}

#[test]
fn host_unix_sockets_are_out_of_reach() {
    let Some(sandbox) = sandbox_or_skip("unix-sockets", Vec::new()) else {
        return;
    };
    let n = nonce();
    let mut folders = vec!["/tmp", "/dev/shm"];
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        folders.push("/run");
    }
    let mut listeners = Vec::new();
    let mut cleanup = RemoveOnDrop(Vec::new());
    for folder in folders.iter().filter(|f| Path::new(f).is_dir()) {
        let path = Path::new(folder).join(format!("swarm-escape-{n}.sock"));
        let listener = UnixListener::bind(&path).unwrap();
        cleanup.0.push(path.clone());
        listener.set_nonblocking(true).unwrap();
        // anyone may connect: only the sandbox's view of the file system stands in the way
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        listeners.push((path, listener));
    }
    assert!(!listeners.is_empty());
    let paths: Vec<String> = listeners
        .iter()
        .map(|(p, _)| format!("{:?}", p.display().to_string()))
        .collect();
    let program = format!(
        r#"import socket, json, os
out = {{}}
for path in [{paths}]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        out[path] = 'connected'
    except OSError as e:
        out[path] = e.errno
    out[path + ' exists'] = os.path.exists(path)
print(json.dumps(out))
"#,
        paths = paths.join(", ")
    );
    let out = run(&sandbox, &program);
    let json = json_of(&out);
    for (path, listener) in &listeners {
        let key = path.display().to_string();
        assert_eq!(json[&key], libc::ENOENT, "{key}: {json}");
        assert_eq!(json[format!("{key} exists")], false, "{json}");
        match listener.accept() {
            Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
            Ok(_) => panic!("the sandbox reached {key}"),
        }
    }
}

/// Files removed when dropped (a failed test leaves no socket behind).
struct RemoveOnDrop(Vec<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Processes whose command line holds `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

#[test]
fn a_setsid_child_does_not_outlive_its_run() {
    let Some(sandbox) = sandbox_or_skip("setsid", Vec::new()) else {
        return;
    };
    let marker = format!("swarm-escapee-{}", nonce());
    let program = format!(
        r#"import os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', '{marker}'])
os.waitpid(pid, 0)
seen = False
deadline = time.time() + 10
while not seen and time.time() < deadline:
    for p in os.listdir('/proc'):
        try:
            with open(f'/proc/{{p}}/cmdline', 'rb') as f:
                seen = seen or b'{marker}' in f.read()
        except OSError:
            pass
    time.sleep(0.02)
print('escapee running' if seen else 'escapee not seen')
"#
    );
    let out = run(&sandbox, &program);
    assert!(out.ok(), "{out:?}");
    // the attack happened: the detached child was running when the program ended
    assert_eq!(out.stdout.trim(), "escapee running", "{out:?}");
    let until = Instant::now() + Duration::from_secs(2);
    let mut left = processes_with(&marker);
    while !left.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        left = processes_with(&marker);
    }
    for pid in &left {
        // SAFETY: cleaning up after a failed test.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "the setsid child survived: pids {left:?}");
}

#[test]
fn dangerous_system_calls_fail_with_eperm() {
    let Some(sandbox) = sandbox_or_skip("syscalls", Vec::new()) else {
        return;
    };
    let agent = std::process::id();
    let program = format!(
        r#"import ctypes, os, platform, socket, json, sys
NR = {{
    'x86_64': dict(x32_getpid=0x40000000 + 39, ptrace=101, process_vm_readv=310, mount=165, umount2=166, pivot_root=155,
                   open_tree=428, fsopen=430, unshare=272, setns=308, clone=56, clone3=435,
                   keyctl=250, add_key=248, bpf=321, init_module=175, finit_module=313,
                   delete_module=176, kexec_load=246, reboot=169, perf_event_open=298,
                   userfaultfd=323),
    'aarch64': dict(ptrace=117, process_vm_readv=270, mount=40, umount2=39, pivot_root=41,
                    open_tree=428, fsopen=430, unshare=97, setns=268, clone=220, clone3=435,
                    keyctl=219, add_key=217, bpf=280, init_module=105, finit_module=273,
                    delete_module=106, kexec_load=104, reboot=142, perf_event_open=241,
                    userfaultfd=282),
}}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sys_(name, *args):
    ctypes.set_errno(0)
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    rc = libc.syscall(ctypes.c_long(NR[name]), *args)
    if rc == 0 and name == 'clone':
        os._exit(0)
    if rc > 0 and name == 'clone':
        os.waitpid(rc, 0)
    result = 'ok' if rc >= 0 else ctypes.get_errno()
    print(name, result, file=sys.stderr, flush=True)
    return result
out = {{}}
out['ptrace_attach_agent'] = sys_('ptrace', 16, {agent}, 0, 0)
out['process_vm_readv'] = sys_('process_vm_readv', {agent}, 0, 0, 0, 0, 0)
out['mount'] = sys_('mount', b'none', b'/tmp', b'tmpfs', 0, 0)
out['umount2'] = sys_('umount2', b'/proc', 2)
out['pivot_root'] = sys_('pivot_root', b'.', b'.')
out['open_tree'] = sys_('open_tree', -100, b'/', 1)
out['fsopen'] = sys_('fsopen', b'tmpfs', 0)
out['unshare_user'] = sys_('unshare', 0x10000000)
out['unshare_net'] = sys_('unshare', 0x40000000)
out['setns'] = sys_('setns', -1, 0)
out['clone_newuser'] = sys_('clone', 0x10000000 | 17, 0, 0, 0, 0)
out['keyctl'] = sys_('keyctl', 0, -3, 1)
out['add_key'] = sys_('add_key', b'user', b'swarm', b'x', 1, -3)
out['bpf'] = sys_('bpf', 5, 0, 0)
out['init_module'] = sys_('init_module', 0, 0, b'')
out['finit_module'] = sys_('finit_module', -1, b'', 0)
out['delete_module'] = sys_('delete_module', b'swarm_no_such_module', 0)
out['kexec_load'] = sys_('kexec_load', 0, 0, 0, 0)
out['reboot_bad_magic'] = sys_('reboot', 0, 0, 0, 0)
out['perf_event_open'] = sys_('perf_event_open', 0, 0, -1, -1, 0)
out['userfaultfd'] = sys_('userfaultfd', 0)
out['tiocsti'] = 'ok' if libc.ioctl(0, 0x5412, ctypes.c_char_p(b'x')) >= 0 else ctypes.get_errno()
for name, family in (('netlink', socket.AF_NETLINK), ('packet', socket.AF_PACKET)):
    try:
        socket.socket(family, socket.SOCK_RAW, 0).close()
        out['socket_' + name] = 'ok'
    except OSError as e:
        out['socket_' + name] = e.errno
out['clone3'] = sys_('clone3', 0, 0)
if 'x32_getpid' in NR:
    # the x32 numbering of getpid: ENOSYS where the kernel has no x32, but never let through
    out['x32_getpid'] = sys_('x32_getpid')
# last: where it succeeds, the next signal stops the program for a tracer that never comes
out['ptrace_traceme'] = sys_('ptrace', 0, 0, 0, 0)
# what ordinary programs do still works
a, b = socket.socketpair()
a.sendall(b'x')
out['control_socketpair'] = b.recv(1).decode()
pid = os.fork()
if pid == 0:
    os._exit(7)
out['control_fork'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
out['status'] = {{k: status[k].strip() for k in ('Seccomp', 'NoNewPrivs', 'CapEff')}}
print(json.dumps(out))
"#
    );
    let out = json_of(&run(&sandbox, &program));
    let mut refused = BTreeMap::new();
    for (name, result) in out.as_object().unwrap() {
        if name.starts_with("control_") || name == "status" {
            continue;
        }
        let want = if name == "clone3" {
            libc::ENOSYS
        } else {
            libc::EPERM
        };
        assert_eq!(*result, want, "{name}: {out}");
        refused.insert(name.clone(), result.clone());
    }
    let x32 = usize::from(cfg!(target_arch = "x86_64"));
    assert_eq!(refused.len(), 26 + x32, "{refused:?}");
    assert_eq!(out["control_socketpair"], "x", "{out}");
    assert_eq!(out["control_fork"], 7, "{out}");
    assert_eq!(out["status"]["Seccomp"], "2", "{out}");
    assert_eq!(out["status"]["NoNewPrivs"], "1", "{out}");
    assert_eq!(out["status"]["CapEff"], "0000000000000000", "{out}");
}

/// The ids of a process from its `/proc/<pid>/status`: real, effective, saved and file-system
/// uids and gids, and the supplementary groups.
fn ids_of(pid: u32) -> Option<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<Vec<u32>> {
        let line = status.lines().find_map(|l| l.strip_prefix(name))?;
        line.split_whitespace().map(|v| v.parse().ok()).collect()
    };
    Some((field("Uid:")?, field("Gid:")?, field("Groups:")?))
}

#[test]
fn a_program_runs_under_another_uid_than_the_agents_and_cannot_read_its_private_files() {
    let Some(sandbox) = separate_ids_or_skip("subordinate-ids", Vec::new()) else {
        return;
    };
    // the agent's private files, as in a home folder: a 0600 key and a 0700 folder, neither in
    // hidden_paths nor under a folder the sandbox covers; and a file anyone may read
    let dir = visible_folder("private");
    let n = nonce();
    let key = dir.join("id_ed25519");
    std::fs::write(&key, format!("private-key-{n}")).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ssh = dir.join(".ssh");
    std::fs::create_dir(&ssh).unwrap();
    write_readable(&ssh.join("config"), &format!("private-config-{n}"));
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
    let control = dir.join("public.txt");
    write_readable(&control, &format!("public-{n}"));
    // SAFETY: getuid/getgid have no preconditions.
    let (agent_uid, agent_gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let marker = format!("swarm-subids-{n}");
    let program = format!(
        r#"import os, sys, json
out = {{'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(), 'cwd': os.getcwd()}}
for name in ('uid_map', 'gid_map'):
    with open(f'/proc/self/{{name}}') as f:
        out[name] = [[int(x) for x in l.split()] for l in f.read().splitlines()]
for name, path in (('key', {key:?}), ('ssh_config', {ssh_config:?}), ('control', {control:?})):
    try:
        with open(path) as f:
            out[name] = f.read()
    except OSError as e:
        out[name] = e.errno
try:
    out['ssh_listing'] = os.listdir({ssh:?})
except OSError as e:
    out['ssh_listing'] = e.errno
# what the program writes must not outlive the run, even a folder only it may enter
os.makedirs('private/deeper', mode=0o700)
with open('private/deeper/left.txt', 'w') as f:
    f.write('x')
os.chmod('private', 0o500)
print(json.dumps(out), flush=True)
# seen from outside while it runs
os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(4)', '{marker}'])
"#,
        key = key.display().to_string(),
        ssh_config = ssh.join("config").display().to_string(),
        control = control.display().to_string(),
        ssh = ssh.display().to_string(),
    );
    let running = {
        let sandbox = sandbox.clone();
        std::thread::spawn(move || run(&sandbox, &program))
    };
    let until = Instant::now() + Duration::from_secs(15);
    let outside = loop {
        let seen = processes_with(&marker)
            .into_iter()
            .find_map(|pid| ids_of(pid).map(|ids| (pid, ids)));
        if let Some(seen) = seen {
            break Some(seen);
        }
        if running.is_finished() || Instant::now() > until {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let raw = running.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        !raw.stdout.contains("private-"),
        "the agent's private file leaked: {raw:?}"
    );
    let out = json_of(&raw);

    // (a) from outside: every uid and gid of the program is another user's, with no groups
    let (pid, (uids, gids, groups)) =
        outside.unwrap_or_else(|| panic!("the program was never seen running: {raw:?}"));
    println!("program pid {pid}: uids {uids:?} gids {gids:?} groups {groups:?}; inside {out}");
    assert_eq!(uids.len(), 4, "{uids:?}");
    for uid in &uids {
        assert_ne!(*uid, agent_uid, "the program runs as the agent: {uids:?}");
        assert_ne!(*uid, 0, "{uids:?}");
    }
    for gid in &gids {
        assert_ne!(
            *gid, agent_gid,
            "the program runs in the agent's group: {gids:?}"
        );
        assert_ne!(*gid, 0, "{gids:?}");
    }
    assert_eq!(groups, Vec::<u32>::new(), "supplementary groups kept");
    assert_eq!(out["groups"], serde_json::json!([]), "{out}");
    match sandbox.program_ids() {
        ProgramIds::Subordinate(ids) => {
            let (u, g) = (ids.uids, ids.gids);
            assert!(
                (u.start..u.start + u.count).contains(&uids[0]),
                "uid {} outside the range {u:?}",
                uids[0]
            );
            assert!(
                (g.start..g.start + g.count).contains(&gids[0]),
                "gid {} outside the range {g:?}",
                gids[0]
            );
            // (a) from inside: the namespace maps the program's uid to that same outside id
            let inside = out["uid"].as_u64().unwrap() as u32;
            let outside_of = |map: &Value, id: u32| -> Option<u32> {
                map.as_array()?.iter().find_map(|line| {
                    let l: Vec<u32> = line
                        .as_array()?
                        .iter()
                        .map(|v| v.as_u64().map(|v| v as u32))
                        .collect::<Option<_>>()?;
                    (l.len() == 3 && (l[0]..l[0] + l[2]).contains(&id)).then(|| l[1] + id - l[0])
                })
            };
            assert_eq!(outside_of(&out["uid_map"], inside), Some(uids[0]), "{out}");
            let inside_gid = out["gid"].as_u64().unwrap() as u32;
            assert_eq!(
                outside_of(&out["gid_map"], inside_gid),
                Some(gids[0]),
                "{out}"
            );
            // the namespace's root is the agent (for the setup), which the program is not
            assert_eq!(outside_of(&out["uid_map"], 0), Some(agent_uid), "{out}");
            assert_ne!(inside, 0, "{out}");
        }
        ProgramIds::Slot => {
            assert!(uids[0] >= 0x6000_0000, "{uids:?}");
        }
        other => panic!("programs run as {other}"),
    }

    // (b) the agent's private files stay closed; what anyone may read stays readable
    assert_eq!(out["control"], format!("public-{n}"), "{out}");
    assert_eq!(out["key"], libc::EACCES, "{out}");
    assert_eq!(out["ssh_config"], libc::EACCES, "{out}");
    assert_eq!(out["ssh_listing"], libc::EACCES, "{out}");

    // nothing the program wrote is left for the agent to remove
    let cwd = out["cwd"].as_str().unwrap();
    assert!(
        cwd.contains("swarm-sandbox-"),
        "the program ran in {cwd}: {out}"
    );
    assert!(
        !Path::new(cwd).exists(),
        "the program's folder {cwd} outlived its run"
    );
}
