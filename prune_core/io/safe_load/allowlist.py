"""The allow-list: a configuration may name only Keras' own classes and activation functions, by (module, name);
Keras classes that run code from the file or reach outside it are refused by name."""

from __future__ import annotations

from functools import lru_cache

from .bounds import _walk
from .errors import _short, ModelFileError, SAVE_HINT


# Keras' own classes that run code from the file or reach outside it: refused even though Keras ships them.
CODE_LAYERS = {
    "Lambda": "runs a Python function stored in the file",
    "TFSMLayer": "loads a TensorFlow SavedModel from a path outside the file",
    "TorchModuleWrapper": "unpickles a PyTorch module (arbitrary code)",
    "JaxLayer": "wraps an arbitrary JAX function",
    "FlaxLayer": "wraps an arbitrary Flax module",
}
# Data-only encodings used by Keras' serializer; "__lambda__" (bytecode) and anything else are refused.
DATA_TAGS = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}


@lru_cache(maxsize=1)
def builtin_names() -> frozenset[str]:
    """Class names Keras itself ships and can deserialize: its layers and ops (every Operation subclass
    defined inside keras.src), models, initializers, regularizers, constraints and dtype policies.
    Classes a user defined (in any other module) are not in it."""
    return frozenset(name for _, name in allowed_classes())


def _keras_classes() -> list[type]:
    import keras
    from keras.src.ops.operation import Operation

    found: list[type] = []
    stack, seen = [Operation], set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__module__.startswith("keras.src.") and not cls.__name__.startswith("_"):
            found.append(cls)
        stack.extend(cls.__subclasses__())
    for module in (keras.layers, keras.models, keras.initializers, keras.regularizers, keras.constraints,
                   keras.dtype_policies):
        found.extend(v for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
    return found


@lru_cache(maxsize=1)
def allowed_classes() -> frozenset[tuple[str, str]]:
    """(module, class name) pairs Keras writes for its own classes: the defining module and the public
    path it exports the class under (``keras.layers`` + ``Dense``, ``keras.src.ops.numpy`` + ``Add`` …)."""
    from keras.src import api_export

    pairs: set[tuple[str, str]] = set()
    classes = set(_keras_classes())
    for cls in classes:
        pairs.add((cls.__module__, cls.__name__))
    for path, obj in api_export.REGISTERED_NAMES_TO_OBJS.items():
        if isinstance(obj, type) and obj in classes and "." in path:
            module, name = path.rsplit(".", 1)
            pairs.add((module, name))
            pairs.add((module, obj.__name__))
    for name in ("Functional", "Sequential", "Model"):
        pairs.add(("keras", name))
    return frozenset(pairs)


@lru_cache(maxsize=1)
def allowed_functions() -> frozenset[tuple[str, str]]:
    """(module, function name) pairs for Keras' activation functions, the only functions a model config
    (outside its compile config) names: ``keras.activations`` + ``relu`` … Nothing else — not
    ``keras.activations.deserialize``, not ``keras.src.layers`` + ``deserialize``."""
    from keras.src import activations, api_export

    pairs: set[tuple[str, str]] = set()
    for name, fn in activations.ALL_OBJECTS_DICT.items():
        if not callable(fn) or isinstance(fn, type):
            continue
        pairs.add((fn.__module__, name))
        pairs.add(("keras.activations", name))
        pairs.add(("builtins", name))  # how Keras names a built-in function it finds by name alone
        exported = api_export.get_name_from_symbol(fn)
        if exported and "." in exported:
            pairs.add((exported.rsplit(".", 1)[0], name))
    return frozenset(pairs)


def _name_of(obj: dict, parent: str | None) -> str:
    cfg = obj.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    if isinstance(name, str) and name:
        return f"'{_short(name, 40)}'"
    return f"inside '{parent}'" if parent else "(unnamed)"


def _layer_label(obj: dict, parent: str | None) -> str:
    cfg = obj.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    if isinstance(name, str) and name:
        return f"'{_short(name, 40)}' ({_short(str(obj.get('class_name')), 40)})"
    return f"a {_short(str(obj.get('class_name')), 40)} object" + (f" inside layer '{parent}'" if parent else "")


# Layers whose config may name a file to read (a vocabulary): only lists stored in the config are accepted.
PATH_KEYS = {"StringLookup": ("vocabulary", "idf_weights"), "IntegerLookup": ("vocabulary", "idf_weights"),
             "TextVectorization": ("vocabulary", "idf_weights", "stop_words")}


def check_config(config) -> None:
    """Walk a serialized Keras model config (iteratively, depth-bounded) and refuse, naming the layer,
    anything that would run code or read outside the file. Classes and functions are checked by
    (module, name) against Keras' own.

    ``compile_config``/``training_config`` are skipped: the app loads with compile=False, so the optimizer
    and loss in them are never built.

    >>> check_config({"class_name": "Sequential", "module": "keras", "config": {"layers": [
    ...     {"class_name": "Lambda", "module": "keras.layers", "config": {"name": "lam"}}]}})
    Traceback (most recent call last):
    ...
    prune_core.io.safe_load.ModelFileError: This model contains a Lambda layer 'lam', which runs a Python function stored in the file. It is refused because loading it could run code from the file. Replace the Lambda with built-in Keras layers (or keras.ops in a Functional model), save again, and upload that file.
    """
    classes, functions = allowed_classes(), allowed_functions()
    for obj, parent in _walk(config):
        _check_object(obj, parent, classes, functions)


def _check_object(obj: dict, parent: str | None, classes, functions) -> None:
    class_name = obj.get("class_name")
    module = obj.get("module")
    registered = obj.get("registered_name")
    if not isinstance(class_name, str):
        raise ModelFileError("The model's configuration has an object without a proper class name; it does not "
                             "look like a Keras model. " + SAVE_HINT)
    label = _layer_label(obj, parent)
    if class_name in CODE_LAYERS:
        raise ModelFileError(
            f"This model contains a {class_name} layer {_name_of(obj, parent)}, which {CODE_LAYERS[class_name]}. It is refused "
            "because loading it could run code from the file. Replace the "
            f"{class_name} with built-in Keras layers (or keras.ops in a Functional model), save again, "
            "and upload that file.")
    if class_name == "__lambda__":
        raise ModelFileError(
            f"This model stores a Python lambda function (in {parent and repr(parent) or 'its configuration'}). "
            "It is refused because loading it would run code from the file. Use built-in Keras activations "
            "and layers, save again, and upload that file.")
    if class_name in DATA_TAGS:
        return
    if class_name == "function":
        fn = obj.get("config")
        if isinstance(fn, str) and isinstance(module, str) and (module, fn) in functions \
                and registered in (None, fn):
            return
        raise ModelFileError(
            f"This model refers to the function {_short(str(fn), 40)!s} from module "
            f"{_short(str(module), 60)} (in {repr(parent) if parent else 'its configuration'}), which is not "
            "one of Keras' activation functions. It is refused because loading it could run code outside Keras' "
            "layers. Use a built-in activation (e.g. 'relu', 'softmax'), save again, and upload that file.")
    known = module is None and class_name in builtin_names()  # legacy .h5 configs name no module
    custom = (not (known or (isinstance(module, str) and (module, class_name) in classes))
              or (isinstance(registered, str) and registered != class_name))
    if custom:
        where = f" from module {_short(str(module), 60)}" if module else ""
        reg = f" (registered as {_short(registered, 60)})" if isinstance(registered, str) and registered != class_name else ""
        raise ModelFileError(
            f"This model uses {label}, a custom class{where}{reg} that is not part of Keras. Custom classes are "
            "refused because loading them means running their code. Rebuild the model from built-in Keras layers "
            "(Dense, Conv2D, BatchNormalization, Dropout, pooling …), save again, and upload that file.")
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    for key in PATH_KEYS.get(class_name, ()):
        if isinstance(cfg.get(key), str):
            raise ModelFileError(
                f"This model's layer {label} reads its {key} from the path '{_short(cfg[key], 120)}', outside the "
                "model file. Files that reach outside themselves are refused (the path would be read on this "
                f"server). Give the {key} as a list (layer.set_vocabulary([...]) or vocabulary=[...]), save again, "
                "and upload that file.")
