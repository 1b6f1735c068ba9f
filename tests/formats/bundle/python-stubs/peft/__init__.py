from _record import KEYS, check, record


class LoraConfig:
    def __init__(self, **kwargs):
        check(kwargs, KEYS["peft"]["lora_config"], "LoraConfig")
        record("LoraConfig", kwargs=kwargs)
