import os

from _record import KEYS, check, record


class BitsAndBytesConfig:
    def __init__(self, **kwargs):
        check(kwargs, KEYS["transformers_bitsandbytes"]["bitsandbytes_config"], "BitsAndBytesConfig")
        record("BitsAndBytesConfig", kwargs=kwargs)


class _Tokenizer:
    pad_token = None
    eos_token = "<|im_end|>"
    chat_template = None

    def save_pretrained(self, path):
        record("tokenizer.save_pretrained", path=path, chat_template=self.chat_template)


class AutoTokenizer:
    @staticmethod
    def from_pretrained(name, **kwargs):
        record("AutoTokenizer.from_pretrained", name=name, kwargs=kwargs, exists=os.path.isdir(name))
        return _Tokenizer()


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(name, **kwargs):
        record("AutoModelForCausalLM.from_pretrained", name=name, kwargs=sorted(kwargs), exists=os.path.isdir(name))
        return object()

    @staticmethod
    def from_config(config):
        record("AutoModelForCausalLM.from_config")
        return object()


class AutoConfig:
    @staticmethod
    def from_pretrained(name, **kwargs):
        return object()
