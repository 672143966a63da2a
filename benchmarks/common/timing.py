"""Timing epochs inside `fit`."""

import time


def epoch_timer(base):
    """A callback (of Keras 3's or tf_keras's Callback class `base`) that records each epoch's seconds."""

    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    return EpochTimer()
