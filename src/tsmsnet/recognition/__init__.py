"""Recognition: name the emotion class of each spotted micro-expression (spot-then-recognise).

`model` is the network, `samples` which stage-1 samples stand for an expression, `train` one
leave-one-subject-out fold's training, `predict` the public entry point (`name_classes`).
"""
