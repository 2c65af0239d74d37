"""Safe loading of a user's model file (.keras or legacy .h5), with one clear message per refusal.

An uploaded file is untrusted. Nothing in it is ever run: before Keras sees the file we read its
architecture (``config.json`` in a .keras zip, the ``model_config`` attribute of an .h5) and refuse
anything that would run code or reach outside the file. Only then is it written to a private
temporary file (mode 0600, a name we choose) and loaded with ``safe_mode=True`` and ``compile=False``.

Checks, in order (each refusal raises :class:`ModelFileError`, a ValueError whose message says what is
wrong and what to do):

1. size: empty, or over the upload limit (``PRUNING_EXPLORER_MAX_UPLOAD_MB``, default 200) — before any parsing;
2. extension (.keras, .h5, .hdf5) and content sniffing (a PNG, a text file, random bytes, an .h5 named .keras …);
3. .keras: a readable zip, safe member names (no absolute paths, ``..``, links), sane declared sizes and
   compression ratios, a ``config.json`` and a weights file; the weights .h5 inside is checked like an .h5;
4. .h5: no external links, external raw storage or virtual datasets; a ``model_config`` attribute;
5. the config: no Lambda, TFSMLayer, TorchModuleWrapper, JaxLayer/FlaxLayer, no class or function that is
   not Keras' own (custom or registered classes are named);
6. after loading: one input and one output, finite weights, at least one Dense or Conv2D layer.

>>> load_model_file(b"", "model.keras")
Traceback (most recent call last):
...
prune_core.io.safe_load.ModelFileError: The file model.keras is empty (0 bytes). Upload the .keras or .h5 file that model.save(...) wrote.

Modules, one job each: ``errors`` (the refusal and its wording), ``bounds`` (byte, archive and configuration
limits), ``params`` (parameters a configuration declares), ``allowlist`` (Keras' own classes and functions),
``containers`` (file kind, HDF5, .keras zip), ``loaded`` (Keras' load and the checks on the loaded model),
``tempfiles`` (the private upload files), ``isolation`` (the child process), ``load`` (the loader) and
``summary`` (what the app shows of a model). This package face re-exports their public API.
"""

from __future__ import annotations

from .allowlist import allowed_classes, allowed_functions, builtin_names, check_config, CODE_LAYERS, DATA_TAGS
from .bounds import (check_size, count_layers, DEFAULT_MAX_UPLOAD_MB, json_depth, MAX_CONFIG_BYTES,
                     MAX_CONFIG_DEPTH, MAX_LAYERS, max_params, MAX_UPLOAD_ENV, max_upload_bytes, max_upload_mb,
                     parse_config, too_large_message)
from .containers import check_hdf5, check_keras_zip, check_weights_against_config, H5Facts, inspect_hdf5
from .errors import display_name, ModelFileError, SAVE_HINT
from .isolation import (isolation_enabled, LOAD_MEMORY_ENV, load_memory_bytes, LOAD_TIMEOUT_ENV, load_timeout_s,
                        ISOLATE_ENV, validate_isolated, warm_isolation)
from .load import check_model_bytes, file_extension, load_model_file, MODEL_EXTENSIONS
from .loaded import check_loaded
from .params import check_bounds, estimate_params, layer_params, ParamEstimate
from .summary import model_facts, model_summary, SUMMARY_COLUMNS
from .tempfiles import sweep_stale_uploads, upload_dir, UPLOAD_PREFIX
