//! Owned and borrowed file descriptors.
//!
//! With the `std` feature these are std's own [`OwnedFd`], [`BorrowedFd`] and traits, so
//! mmbpf's handles interoperate with the rest of the ecosystem. Without `std` this module
//! provides small equivalents with the same names and methods: an [`OwnedFd`] closes its
//! descriptor on drop, a [`BorrowedFd`] borrows one for a lifetime.

#[cfg(feature = "std")]
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
pub use self::nostd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
mod nostd {
    use core::fmt;
    use core::marker::PhantomData;

    /// A raw file descriptor.
    pub type RawFd = i32;

    /// An owned file descriptor, closed on drop.
    pub struct OwnedFd {
        fd: RawFd,
    }

    /// A borrowed file descriptor, valid for `'fd`.
    #[derive(Copy, Clone)]
    pub struct BorrowedFd<'fd> {
        fd: RawFd,
        _lifetime: PhantomData<&'fd OwnedFd>,
    }

    /// Borrow a file descriptor.
    pub trait AsFd {
        /// Borrow the descriptor.
        fn as_fd(&self) -> BorrowedFd<'_>;
    }

    /// Extract the raw descriptor.
    pub trait AsRawFd {
        /// The raw descriptor, still owned by `self`.
        fn as_raw_fd(&self) -> RawFd;
    }

    /// Take ownership of a raw descriptor.
    pub trait FromRawFd {
        /// # Safety
        /// `fd` must be open and owned by nobody else.
        unsafe fn from_raw_fd(fd: RawFd) -> Self;
    }

    /// Give up ownership of a descriptor without closing it.
    pub trait IntoRawFd {
        /// The raw descriptor; the caller now owns it.
        fn into_raw_fd(self) -> RawFd;
    }

    impl<'fd> BorrowedFd<'fd> {
        /// # Safety
        /// `fd` must stay open for `'fd`.
        pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
            BorrowedFd {
                fd,
                _lifetime: PhantomData,
            }
        }
    }

    impl AsFd for OwnedFd {
        fn as_fd(&self) -> BorrowedFd<'_> {
            BorrowedFd {
                fd: self.fd,
                _lifetime: PhantomData,
            }
        }
    }

    impl AsFd for BorrowedFd<'_> {
        fn as_fd(&self) -> BorrowedFd<'_> {
            *self
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &T {
        fn as_fd(&self) -> BorrowedFd<'_> {
            (**self).as_fd()
        }
    }

    impl AsRawFd for OwnedFd {
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl AsRawFd for BorrowedFd<'_> {
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl FromRawFd for OwnedFd {
        unsafe fn from_raw_fd(fd: RawFd) -> Self {
            OwnedFd { fd }
        }
    }

    impl IntoRawFd for OwnedFd {
        fn into_raw_fd(self) -> RawFd {
            let fd = self.fd;
            core::mem::forget(self);
            fd
        }
    }

    impl Drop for OwnedFd {
        fn drop(&mut self) {
            crate::sys::close(self.fd);
        }
    }

    impl fmt::Debug for OwnedFd {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
        }
    }

    impl fmt::Debug for BorrowedFd<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
        }
    }
}
