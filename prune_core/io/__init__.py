"""Files in and out: datasets (bundled MNIST / Fashion-MNIST, a user's .npz), a .keras file's kernels read
with h5py, the SQLite run history, JSON cleaning, and ``safe_load`` — untrusted uploads, bounded and
checked before Keras ever sees them.
"""
