//! Names of common system calls, for the demo's per-slot table.

/// The name of syscall `nr` on this architecture, for the common ones.
pub fn name(nr: u32) -> Option<&'static str> {
    TABLE.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
}

#[cfg(target_arch = "x86_64")]
const TABLE: &[(u32, &str)] = &[
    (0, "read"),
    (1, "write"),
    (2, "open"),
    (3, "close"),
    (4, "stat"),
    (5, "fstat"),
    (6, "lstat"),
    (7, "poll"),
    (8, "lseek"),
    (9, "mmap"),
    (10, "mprotect"),
    (11, "munmap"),
    (12, "brk"),
    (13, "rt_sigaction"),
    (14, "rt_sigprocmask"),
    (15, "rt_sigreturn"),
    (16, "ioctl"),
    (17, "pread64"),
    (18, "pwrite64"),
    (19, "readv"),
    (20, "writev"),
    (21, "access"),
    (22, "pipe"),
    (23, "select"),
    (24, "sched_yield"),
    (25, "mremap"),
    (28, "madvise"),
    (32, "dup"),
    (33, "dup2"),
    (35, "nanosleep"),
    (39, "getpid"),
    (41, "socket"),
    (42, "connect"),
    (44, "sendto"),
    (45, "recvfrom"),
    (46, "sendmsg"),
    (47, "recvmsg"),
    (49, "bind"),
    (54, "setsockopt"),
    (56, "clone"),
    (57, "fork"),
    (58, "vfork"),
    (59, "execve"),
    (60, "exit"),
    (61, "wait4"),
    (62, "kill"),
    (63, "uname"),
    (72, "fcntl"),
    (79, "getcwd"),
    (89, "readlink"),
    (96, "gettimeofday"),
    (97, "getrlimit"),
    (102, "getuid"),
    (104, "getgid"),
    (107, "geteuid"),
    (108, "getegid"),
    (110, "getppid"),
    (131, "sigaltstack"),
    (160, "setrlimit"),
    (186, "gettid"),
    (202, "futex"),
    (204, "sched_getaffinity"),
    (217, "getdents64"),
    (218, "set_tid_address"),
    (228, "clock_gettime"),
    (230, "clock_nanosleep"),
    (231, "exit_group"),
    (232, "epoll_wait"),
    (257, "openat"),
    (262, "newfstatat"),
    (273, "set_robust_list"),
    (281, "epoll_pwait"),
    (293, "pipe2"),
    (298, "perf_event_open"),
    (302, "prlimit64"),
    (318, "getrandom"),
    (321, "bpf"),
    (332, "statx"),
    (334, "rseq"),
    (435, "clone3"),
    (436, "close_range"),
];

#[cfg(target_arch = "aarch64")]
const TABLE: &[(u32, &str)] = &[
    (17, "getcwd"),
    (23, "dup"),
    (25, "fcntl"),
    (29, "ioctl"),
    (35, "unlinkat"),
    (56, "openat"),
    (57, "close"),
    (59, "pipe2"),
    (61, "getdents64"),
    (62, "lseek"),
    (63, "read"),
    (64, "write"),
    (65, "readv"),
    (66, "writev"),
    (67, "pread64"),
    (68, "pwrite64"),
    (78, "readlinkat"),
    (79, "newfstatat"),
    (80, "fstat"),
    (93, "exit"),
    (94, "exit_group"),
    (96, "set_tid_address"),
    (98, "futex"),
    (99, "set_robust_list"),
    (101, "nanosleep"),
    (113, "clock_gettime"),
    (115, "clock_nanosleep"),
    (123, "sched_getaffinity"),
    (124, "sched_yield"),
    (129, "kill"),
    (132, "sigaltstack"),
    (134, "rt_sigaction"),
    (135, "rt_sigprocmask"),
    (139, "rt_sigreturn"),
    (160, "uname"),
    (163, "getrlimit"),
    (164, "setrlimit"),
    (169, "gettimeofday"),
    (172, "getpid"),
    (173, "getppid"),
    (174, "getuid"),
    (175, "geteuid"),
    (176, "getgid"),
    (177, "getegid"),
    (178, "gettid"),
    (198, "socket"),
    (200, "bind"),
    (203, "connect"),
    (206, "sendto"),
    (207, "recvfrom"),
    (208, "setsockopt"),
    (211, "sendmsg"),
    (212, "recvmsg"),
    (214, "brk"),
    (215, "munmap"),
    (216, "mremap"),
    (220, "clone"),
    (221, "execve"),
    (222, "mmap"),
    (226, "mprotect"),
    (233, "madvise"),
    (241, "perf_event_open"),
    (260, "wait4"),
    (261, "prlimit64"),
    (278, "getrandom"),
    (280, "bpf"),
    (291, "statx"),
    (293, "rseq"),
    (435, "clone3"),
    (436, "close_range"),
];

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const TABLE: &[(u32, &str)] = &[];

/// Syscall numbers the demo workload uses, as `(name, nr)`.
pub fn nr(name_wanted: &str) -> Option<u32> {
    TABLE
        .iter()
        .find(|(_, n)| *n == name_wanted)
        .map(|(nr, _)| *nr)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn x86_64_numbers() {
        assert_eq!(super::name(39), Some("getpid"));
        assert_eq!(super::name(110), Some("getppid"));
        assert_eq!(super::nr("sched_yield"), Some(24));
        assert_eq!(super::name(1023), None);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(super::TABLE.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
