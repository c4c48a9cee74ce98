"""Forward model of the synthetic corpus: articulation `[n_frames, 8]` -> 13 cepstra.

A deliberately small caricature of speech production, used by :mod:`tf1_birnn.data.synthetic`
to make MFCC-like inputs from synthetic articulator trajectories:

1. tract shape: a fixed random network maps the 8 standardized articulator coordinates to
   four formant frequencies (F1 < F2 < F3 < F4), their bandwidths, a lip aperture gain, a
   spectral tilt and a log mel coloration. It is clearly nonlinear, so that a network's depth
   and width matter: ``N_HIDDEN`` saturating tanh units, ``N_FOLD`` folded units
   ``(p @ Wq) ** 2`` (a posture and its mirror image sound the same: many-to-one zones that
   only context and the other units can resolve; ``FOLD_GAIN`` sets their weight, and with
   it how much of the acoustics a linear map cannot use), and sigmoid formant ranges with
   plateaus (quantal regions where the acoustics hardly change);
2. spectral envelope: a cascade of four resonators, ``|H(f)|^2 = prod_k F_k^4 /
   ((f^2 - F_k^2)^2 + (f B_k)^2)`` on 129 bins up to 8 kHz;
3. source: voiced frames get a -12 dB/octave glottal spectrum with harmonics of a varying
   pitch, unvoiced frames a high-pass noise spectrum, silent frames nothing;
4. the coloration, a constant background noise floor, a 26-band mel filterbank, log, DCT-II (orthonormal),
   first 13 coefficients (c0..c12, c0 carries energy), plus Gaussian measurement noise.

The network weights come from a fixed seed (``MODEL_SEED``): every corpus seed shares the same
"physics", only the utterances differ. See Rabiner & Schafer (2010) for the real thing.
"""

import functools

import numpy as np

__all__ = ["MODEL_SEED", "N_CEPSTRA", "cepstra"]

MODEL_SEED = 20170915  # fixed seed of the forward model's weights
N_CEPSTRA = 13  # c0..c12
SAMPLE_RATE = 16000.0  # Hz
N_BINS = 129  # FFT bins of a 256-point frame
N_MEL = 26  # mel bands
N_HIDDEN = 24  # hidden units of the tract-shape network
LOG_NOISE = 0.2  # std of the measurement noise on the log mel energies (natural log)
HARMONIC_DEPTH = 0.5  # depth of the pitch-harmonic ripple of the voiced source
W1_SCALE, W2_SCALE = 0.5, 0.3  # weight scales of the tract-shape network (saturating)
N_FOLD = 16  # folded (even) units: p and its mirror image sound the same
FOLD_GAIN = 2.0  # scale of the folded units
SHAPE_SCALE = 0.6  # weight scale of the hidden units' log mel coloration


def _mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


@functools.lru_cache(maxsize=1)
def _model():
    """Fixed weights, bin frequencies, mel filterbank `[N_MEL, N_BINS]`, DCT `[N_MEL, 13]`."""
    rng = np.random.default_rng(MODEL_SEED)
    W1 = rng.normal(0.0, W1_SCALE, (8, N_HIDDEN))  # articulation -> hidden
    b1 = rng.normal(0.0, 0.3, N_HIDDEN)
    Wq = rng.normal(0.0, 1.0 / np.sqrt(8), (8, N_FOLD))  # articulation -> folded units
    W2 = rng.normal(0.0, W2_SCALE, (N_HIDDEN + N_FOLD, 10))  # hidden -> tract parameters
    b2 = rng.normal(0.0, 0.2, 10)
    W3 = rng.normal(0.0, SHAPE_SCALE, (N_HIDDEN + N_FOLD, N_MEL))  # hidden -> log mel coloration
    freqs = np.linspace(0.0, SAMPLE_RATE / 2, N_BINS)  # [N_BINS] Hz
    edges = np.linspace(_mel(60.0), _mel(SAMPLE_RATE / 2), N_MEL + 2)  # mel band edges
    edges_hz = 700.0 * (10.0 ** (edges / 2595.0) - 1.0)
    fbank = np.zeros((N_MEL, N_BINS))
    for m in range(N_MEL):
        lo, mid, hi = edges_hz[m:m + 3]
        rise = (freqs - lo) / (mid - lo)
        fall = (hi - freqs) / (hi - mid)
        fbank[m] = np.clip(np.minimum(rise, fall), 0.0, None)  # triangular band
    k = np.arange(N_MEL)[:, None]
    n = np.arange(N_CEPSTRA)[None, :]
    dct = np.sqrt(2.0 / N_MEL) * np.cos(np.pi * n * (k + 0.5) / N_MEL)  # DCT-II [N_MEL, 13]
    dct[:, 0] /= np.sqrt(2.0)  # orthonormal c0
    return W1, b1, Wq, W2, b2, W3, freqs, fbank, dct


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _tract(p):
    """Tract parameters of articulation `p` `[n_frames, 8]`: formants, bandwidths `[n_frames, 4]`."""
    W1, b1, Wq, W2, b2, W3 = _model()[:6]
    hidden = np.concatenate([np.tanh(p @ W1 + b1),  # [n_frames, N_HIDDEN] saturating
                             FOLD_GAIN * ((p @ Wq) ** 2 - 1.0)], axis=1)  # many-to-one
    o = hidden @ W2 + b2  # [n_frames, 10]
    F1 = 250.0 + 650.0 * _sigmoid(o[:, 0])  # jaw / tongue height
    F2 = F1 + 350.0 + 1500.0 * _sigmoid(o[:, 1])  # tongue front / back
    F3 = F2 + 400.0 + 900.0 * _sigmoid(o[:, 2])  # lips, tongue tip
    F4 = F3 + 500.0 + 600.0 * _sigmoid(o[:, 3])
    formants = np.stack([F1, F2, F3, F4], axis=1)  # [n_frames, 4]
    bandwidths = 50.0 * np.exp(0.6 * np.tanh(o[:, 4:8])) * (1.0 + formants / 2000.0)
    aperture = 0.05 + 0.95 * _sigmoid(2.0 * o[:, 8])  # lip / tongue closure gain
    tilt = 0.5 * np.tanh(o[:, 9])  # extra spectral slope
    return formants, bandwidths, aperture, tilt, hidden @ W3


def cepstra(p, voiced, gain, f0, rng):
    """Cepstra of one utterance.

    Args:
        p: standardized articulator coordinates `[n_frames, 8]`.
        voiced: voicing degree in [0, 1] `[n_frames]` (0 for unvoiced and silent frames).
        gain: linear source power `[n_frames]` (0 in silence: only the noise floor remains).
        f0: pitch in Hz `[n_frames]`.
        rng: ``np.random.Generator`` for the measurement noise.

    Returns:
        float64 cepstra `[n_frames, 13]`.
    """
    freqs, fbank, dct = _model()[6:]
    formants, bandwidths, aperture, tilt, coloration = _tract(p)
    f = freqs[None, :]  # [1, N_BINS]
    h = np.ones((len(p), N_BINS))  # [n_frames, N_BINS] power response of the tract
    for F, B in zip(formants.T[:, :, None], bandwidths.T[:, :, None]):  # [n_frames, 1] each
        h *= F ** 4 / ((f ** 2 - F ** 2) ** 2 + (f * B) ** 2)  # one resonator
    fk = freqs[None, :] / 1000.0  # [1, N_BINS] kHz
    log_voiced = -np.log1p((fk / 0.2) ** 2) + tilt[:, None] * np.log1p(fk)
    harmonics = 1.0 + HARMONIC_DEPTH * np.cos(2.0 * np.pi * freqs[None, :] / f0[:, None])  # pitch ripple
    voiced_src = np.exp(log_voiced) * harmonics
    noise_src = 0.03 * (fk / 3.0) ** 2 / (1.0 + (fk / 3.0) ** 2)  # frication: high-pass noise
    v = voiced[:, None]
    source = v * voiced_src + (1.0 - v) * noise_src  # [n_frames, N_BINS]
    power = (gain * aperture)[:, None] * h * source + 1e-5  # + noise floor
    log_mel = np.log(power @ fbank.T)  # [n_frames, N_MEL]
    log_mel += coloration * (gain > 0)[:, None]  # tract coloration, only with a source
    log_mel += rng.normal(0.0, LOG_NOISE, log_mel.shape)  # measurement noise
    return log_mel @ dct  # [n_frames, 13]
