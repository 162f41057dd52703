"""FX matching: the settings of an FX chain that make a dry sound processed like a reference.

- ``chain``: the chains' elements, their parameters and ranges, the plugins they make;
- ``distance``: level-matched multi-resolution STFT and MFCC distances;
- ``estimator``: the trained network (numpy at run time), (dry, effected) or the reference alone -> a setting;
- ``search``: differential evolution over the same setting and distance, the yardstick and ``--search``;
- ``match``: reading references, matching, writing presets; ``chain_like`` for ``sfx gen --fx-like``.

Training lives in ``training/fx_pairs.py`` (the pairs) and ``training/fx.py`` (the loop).
"""
