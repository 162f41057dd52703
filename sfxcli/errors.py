"""One exception hierarchy for everything a user can get wrong.

Each error carries an exit code (distinct per cause, so scripts can branch on
it) and a hint telling the user what to do. The CLI prints ``error: <message>``
and ``hint: <hint>`` on stderr and exits with the code; the OSC bridge turns the
same error into an error reply.
"""

from __future__ import annotations


class SfxError(Exception):
    """Base of every error sfx reports to a user."""

    exit_code: int = 1
    default_hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        return self.message


class UsageError(SfxError):
    """A flag or argument has a value sfx cannot use."""

    exit_code = 2


class AudioInputError(SfxError):
    """The imitation cannot be used; subclasses say why."""

    exit_code = 10


class SectionError(AudioInputError):
    """The take's section (offset and length from a DAW) does not lie inside the file."""

    default_hint = "check the item's start offset and length; the take's file may have been replaced"


class MissingFileError(AudioInputError):
    exit_code = 11
    default_hint = "check the path; record or export the imitation first"


class NotAFileError(AudioInputError):
    exit_code = 12
    default_hint = "pass the path of one audio file, not a directory"


class NotAudioError(AudioInputError):
    exit_code = 13
    default_hint = "use wav, flac, ogg, mp3 or aiff"


class CorruptAudioError(AudioInputError):
    exit_code = 14
    default_hint = "the file looks truncated or damaged; export it again from your DAW"


class EmptyAudioError(AudioInputError):
    exit_code = 15
    default_hint = "the file holds no samples; record the imitation again"


class SilentAudioError(AudioInputError):
    exit_code = 16
    default_hint = "record louder or check the input gain; sfx needs a signal above -60 dBFS"


class TooShortError(AudioInputError):
    exit_code = 17
    default_hint = "record at least 0.1 s"


class TooLongError(AudioInputError):
    exit_code = 18
    default_hint = "trim the imitation or raise the limit with --max-seconds"


class NonFiniteAudioError(AudioInputError):
    exit_code = 19
    default_hint = "the file holds NaN or infinite samples; render it again as PCM"


class PresetError(SfxError):
    """A preset or FX chain is missing or invalid."""

    exit_code = 20
    default_hint = "run `sfx presets list` to see what is available"


class ConfigError(SfxError):
    """A setting in the config file or the environment has a value sfx cannot use."""

    exit_code = 21
    default_hint = "fix or remove that line; `sfx doctor` lists every setting and where it comes from"


class OutputError(SfxError):
    """Results cannot be written where they were asked to go."""

    exit_code = 30
    default_hint = "choose a writable folder with --project"


class EngineUnavailableError(SfxError):
    """An engine was asked for that cannot run here."""

    exit_code = 40
    default_hint = "run `sfx doctor` to see which engines are usable and why"


class LibraryError(SfxError):
    """A library folder is missing or its index cannot be kept."""

    exit_code = 70
    default_hint = "pass a folder of audio files with --library"


class BridgeError(SfxError):
    """A request to the OSC bridge failed, or the bridge cannot start."""

    exit_code = 50
    default_hint = "is `sfx serve` running on that host and port?"


class BridgeTimeoutError(BridgeError):
    exit_code = 51
    default_hint = "the server did not answer in time; raise --timeout or check `sfx serve`"


class CancelledError(SfxError):
    """A job was cancelled before it finished rendering."""

    exit_code = 60
    default_hint = ""


class TrainingError(SfxError):
    """Training cannot go on: diverging loss, a run folder in the way, a checkpoint that does not fit."""

    exit_code = 80


class DataError(TrainingError):
    """A dataset, manifest or row that cannot be used for training."""

    exit_code = 81


class FxMatchError(SfxError):
    """``sfx fx match`` cannot match: each cause has its own exit code."""

    exit_code = 90


class UnknownFxElementError(FxMatchError):
    exit_code = 91
    default_hint = "run `sfx fx elements` to see the chain elements"


class ReferenceUnreadableError(FxMatchError):
    exit_code = 92
    default_hint = "pass a wav, flac, ogg, mp3 or aiff file"


class ReferenceTooShortError(FxMatchError):
    exit_code = 93
    default_hint = "use a reference of at least 0.5 s, with its tail"


class ReferenceSilentError(FxMatchError):
    exit_code = 94
    default_hint = "the reference is silent; pick the part of the file that holds the sound"


class NoEstimatorError(FxMatchError):
    exit_code = 95
    default_hint = "train one with `sfx train fx --chain CHAIN`, or use --search with --dry"


class CodecError(SfxError):
    """``sfx codec`` cannot encode or decode: each cause has its own exit code."""

    exit_code = 100


class NotACodecError(CodecError):
    """The ``--model`` folder is not a codec from ``sfx train autoencoder``."""

    exit_code = 101


class CodecFileError(CodecError):
    """The file to decode is not an sfx codec file, is damaged, or was made by another codec."""

    exit_code = 102
