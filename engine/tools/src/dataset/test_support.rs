//! Test helpers: a minimal SoundFont writer and self-cleaning temporary folders.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A folder under the system temp dir, unique per process and call, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rosin-dataset-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A sample for [`build_sf2`].
#[derive(Clone)]
pub(crate) struct TestSample {
    pub name: String,
    pub data: Vec<i16>,
    pub rate: u32,
    pub root: u8,
    /// Loop relative to the sample start.
    pub loop_points: (u32, u32),
    pub sample_type: u16,
    pub link: u16,
}

impl TestSample {
    pub fn new(name: &str, data: Vec<i16>, root: u8) -> TestSample {
        let len = data.len() as u32;
        TestSample {
            name: name.to_string(),
            data,
            rate: 44_100,
            root,
            loop_points: (len / 4, len / 2),
            sample_type: 1,
            link: 0,
        }
    }
}

/// An instrument zone for [`build_sf2`].
#[derive(Clone, Copy)]
pub(crate) struct TestZone {
    pub sample: u16,
    pub key_range: (u8, u8),
    pub root_override: Option<u8>,
    pub loops: bool,
}

impl TestZone {
    pub fn new(sample: u16) -> TestZone {
        TestZone { sample, key_range: (0, 127), root_override: None, loops: false }
    }
}

/// The low byte the writer stores in `sm24` for sample point `i`.
pub(crate) fn sm24_byte(i: usize) -> u8 {
    (i * 37 % 256) as u8
}

/// Writes a minimal valid SoundFont: the samples (each followed by 46 zero points, as the spec
/// asks), one instrument "Test Inst" with a global zone plus `zones`, and one preset
/// "Test Preset" (bank 0, program 0) playing it. With `sm24`, version 2.04 and a 24-bit chunk.
pub(crate) fn build_sf2(samples: &[TestSample], zones: &[TestZone], sm24: bool) -> Vec<u8> {
    let mut smpl = Vec::new();
    let mut shdr = Vec::new();
    let mut pos = 0u32;
    for s in samples {
        for v in &s.data {
            smpl.extend_from_slice(&v.to_le_bytes());
        }
        smpl.extend_from_slice(&[0u8; 92]);
        let start = pos;
        let end = pos + s.data.len() as u32;
        shdr.extend_from_slice(&name20(&s.name));
        for v in [start, end, start + s.loop_points.0, start + s.loop_points.1, s.rate] {
            shdr.extend_from_slice(&v.to_le_bytes());
        }
        shdr.push(s.root);
        shdr.push(0);
        shdr.extend_from_slice(&s.link.to_le_bytes());
        shdr.extend_from_slice(&s.sample_type.to_le_bytes());
        pos = end + 46;
    }
    shdr.extend_from_slice(&name20("EOS"));
    shdr.extend_from_slice(&[0u8; 26]);

    let mut igen: Vec<(u16, u16)> = vec![(54, 0)];
    let mut ibag: Vec<u16> = vec![0];
    for z in zones {
        ibag.push(igen.len() as u16);
        igen.push((43, u16::from_le_bytes([z.key_range.0, z.key_range.1])));
        if let Some(k) = z.root_override {
            igen.push((58, u16::from(k)));
        }
        if z.loops {
            igen.push((54, 1));
        }
        igen.push((53, z.sample));
    }
    ibag.push(igen.len() as u16);
    igen.push((0, 0));

    let mut inst = Vec::new();
    inst.extend_from_slice(&name20("Test Inst"));
    inst.extend_from_slice(&0u16.to_le_bytes());
    inst.extend_from_slice(&name20("EOI"));
    inst.extend_from_slice(&((ibag.len() - 1) as u16).to_le_bytes());

    let mut phdr = Vec::new();
    for (name, bag) in [("Test Preset", 0u16), ("EOP", 1)] {
        phdr.extend_from_slice(&name20(name));
        phdr.extend_from_slice(&[0u8; 4]); // preset, bank
        phdr.extend_from_slice(&bag.to_le_bytes());
        phdr.extend_from_slice(&[0u8; 12]);
    }

    let bags = |b: &[u16]| -> Vec<u8> { b.iter().flat_map(|&g| [g.to_le_bytes(), [0, 0]].concat()).collect() };
    let gens = |g: &[(u16, u16)]| -> Vec<u8> {
        g.iter().flat_map(|&(o, a)| [o.to_le_bytes(), a.to_le_bytes()].concat()).collect()
    };

    let version: [u8; 4] = if sm24 { [2, 0, 4, 0] } else { [2, 0, 1, 0] };
    let info = list(b"INFO", &[chunk(b"ifil", &version), chunk(b"isng", b"EMU8000\0"), chunk(b"INAM", b"Test Bank\0")]);
    let mut sdta_chunks = vec![chunk(b"smpl", &smpl)];
    if sm24 {
        let low: Vec<u8> = (0..smpl.len() / 2).map(sm24_byte).collect();
        sdta_chunks.push(chunk(b"sm24", &low));
    }
    let sdta = list(b"sdta", &sdta_chunks);
    let pdta = list(
        b"pdta",
        &[
            chunk(b"phdr", &phdr),
            chunk(b"pbag", &bags(&[0, 1])),
            chunk(b"pmod", &[0u8; 10]),
            chunk(b"pgen", &gens(&[(41, 0), (0, 0)])),
            chunk(b"inst", &inst),
            chunk(b"ibag", &bags(&ibag)),
            chunk(b"imod", &[0u8; 10]),
            chunk(b"igen", &gens(&igen)),
            chunk(b"shdr", &shdr),
        ],
    );
    let mut body = b"sfbk".to_vec();
    body.extend(info);
    body.extend(sdta);
    body.extend(pdta);
    chunk(b"RIFF", &body)
}

fn name20(s: &str) -> [u8; 20] {
    let mut n = [0u8; 20];
    for (d, b) in n.iter_mut().zip(s.bytes()) {
        *d = b;
    }
    n
}

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn list(kind: &[u8; 4], children: &[Vec<u8>]) -> Vec<u8> {
    let mut body = kind.to_vec();
    for c in children {
        body.extend_from_slice(c);
    }
    chunk(b"LIST", &body)
}

/// Offset of the first occurrence of `needle` in `hay` (for patching fields in tests).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).expect("needle present")
}
