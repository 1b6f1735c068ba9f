import json

from _record import KEYS, check, record


class SFTConfig:
    def __init__(self, **kwargs):
        check(kwargs, KEYS["trl"]["sft_config"], "SFTConfig")
        record("SFTConfig", kwargs=kwargs)
        self.__dict__.update(kwargs)

    def to_json_string(self):
        return json.dumps(self.__dict__, indent=2)


class _State:
    global_step = 0


class SFTTrainer:
    def __init__(self, model, args, train_dataset, eval_dataset, processing_class, peft_config):
        record("SFTTrainer", train_rows=len(train_dataset), eval_rows=None if eval_dataset is None else len(eval_dataset),
               peft=peft_config is not None)
        self.args = args
        self.state = _State()

    def is_world_process_zero(self):
        return True

    def train(self, resume_from_checkpoint=None):
        record("train", resume_from_checkpoint=resume_from_checkpoint)

    def evaluate(self):
        record("evaluate")

    def save_model(self, path):
        record("save_model", path=path)

    def save_state(self):
        record("save_state")
