//! Bounded access to RIFF chunks.
//!
//! A chunk's size field is never trusted: every chunk must fit inside its parent, and the outermost
//! parent is the real length of the file. Nothing here allocates more than the file actually holds.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use super::DatasetError;

/// One chunk: its four-character id and where its data lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub id: [u8; 4],
    /// File offset of the first data byte (after the 8-byte header).
    pub offset: u64,
    /// Data size in bytes, already checked to fit inside the parent.
    pub size: u64,
}

impl Chunk {
    pub fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// A four-character code as text, for error messages.
pub(crate) fn fourcc(id: &[u8; 4]) -> String {
    id.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' }).collect()
}

/// Reads exactly `buf.len()` bytes at `offset`. A short read is a truncated file, named by `what`.
/// Reading through `&File` keeps the callers' `&self` methods shareable.
pub(crate) fn read_exact_at(
    mut file: &File,
    path: &Path,
    offset: u64,
    buf: &mut [u8],
    what: &str,
) -> Result<(), DatasetError> {
    let io = |source| DatasetError::Io { path: path.to_path_buf(), source };
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    file.read_exact(buf).map_err(|e| {
        if e.kind() == ErrorKind::UnexpectedEof {
            DatasetError::Truncated {
                path: path.to_path_buf(),
                what: format!("the file ends inside {what} (at offset {offset})"),
            }
        } else {
            io(e)
        }
    })
}

/// Reads a whole chunk's data. Safe to call on any chunk returned by [`children`], because its size
/// was checked against the file length.
pub(crate) fn read_chunk(file: &File, path: &Path, chunk: &Chunk) -> Result<Vec<u8>, DatasetError> {
    let len = usize::try_from(chunk.size).map_err(|_| DatasetError::ChunkTooLarge {
        path: path.to_path_buf(),
        chunk: fourcc(&chunk.id),
        claimed: chunk.size,
        available: usize::MAX as u64,
    })?;
    let mut buf = vec![0u8; len];
    read_exact_at(file, path, chunk.offset, &mut buf, &format!("the '{}' chunk", fourcc(&chunk.id)))?;
    Ok(buf)
}

/// Lists the sub-chunks in `[start, end)`, the data of a parent named `parent` (for messages).
/// Each sub-chunk must fit inside the parent; odd-sized chunks are followed by a pad byte, which may
/// be missing at the very end of the parent.
pub(crate) fn children(
    file: &File,
    path: &Path,
    parent: &str,
    start: u64,
    end: u64,
) -> Result<Vec<Chunk>, DatasetError> {
    let mut chunks = Vec::new();
    let mut pos = start;
    while pos < end {
        if end - pos < 8 {
            return Err(DatasetError::Truncated {
                path: path.to_path_buf(),
                what: format!(
                    "{} stray bytes at offset {pos} where a chunk header was expected inside '{parent}'",
                    end - pos
                ),
            });
        }
        let mut header = [0u8; 8];
        read_exact_at(file, path, pos, &mut header, &format!("a chunk header inside '{parent}'"))?;
        let id = [header[0], header[1], header[2], header[3]];
        let size = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
        let offset = pos + 8;
        let available = end - offset;
        if size > available {
            return Err(DatasetError::ChunkTooLarge {
                path: path.to_path_buf(),
                chunk: fourcc(&id),
                claimed: size,
                available,
            });
        }
        chunks.push(Chunk { id, offset, size });
        pos = offset + size + (size & 1);
    }
    Ok(chunks)
}

/// Reads a LIST chunk's form type (its first four data bytes).
pub(crate) fn list_type(file: &File, path: &Path, chunk: &Chunk) -> Result<[u8; 4], DatasetError> {
    if chunk.size < 4 {
        return Err(DatasetError::Malformed {
            path: path.to_path_buf(),
            chunk: fourcc(&chunk.id),
            what: format!("a LIST chunk of {} bytes has no room for its type", chunk.size),
        });
    }
    let mut t = [0u8; 4];
    read_exact_at(file, path, chunk.offset, &mut t, "a LIST chunk type")?;
    Ok(t)
}
