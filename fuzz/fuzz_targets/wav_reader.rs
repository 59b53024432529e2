//! The WAV reading behind `read_wav_folder` on arbitrary bytes: the input is written as the one
//! labelled file of a scratch folder and read back. Ok (mono audio, finite, audible) or a typed
//! `DatasetError`, never a panic or an allocation sized by an untrusted header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosin_fuzz::scratch_file;
use rosin_tools::dataset::read_wav_folder;

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("wav", "violins_sustain_A4_v1.wav", data);
    let dir = path.parent().expect("scratch files live in a folder");
    if let Ok(recs) = read_wav_folder(dir) {
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert!(r.sample_rate > 0 && !r.audio.is_empty());
        assert!(r.audio.iter().all(|s| s.is_finite()), "non-finite sample passed the reader");
        // Integer PCM is in -1..1; 32-bit float may hold anything finite.
    }
});
