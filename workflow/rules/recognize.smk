# Recognition (spot-then-recognise): per held-out subject, a network trained on the training
# subjects' labelled expressions names the class of each micro-expression spotted in it. Inputs
# list only the training subjects' stores, so the held-out subject cannot leak in.


rule train_recognizer:
    input:
        emotions=EMOTIONS,
        stores=recognition_training_stores,
    output:
        model=f"{RECOGNITION_MODELS}/recognizer.pt",
        losses=f"{RECOGNITION_MODELS}/recognizer_losses.csv",
        used=f"{RECOGNITION_MODELS}/recognizer_config.yaml",
    log:
        f"{RESULTS}/logs/train_recognizer/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_recognizer/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    params:
        videos=training_videos,
        held_out=held_out,
        classes=RECOGNITION_CLASSES,
        spot_config=RECOGNITION_CONFIG,
        K=lambda wildcards: SPOT[RECOGNITION_CONFIG]["K"],
        settings=RECOGNITION_TRAIN,
        features=config["preprocess"]["features"],
        preprocess=PREPROCESS,
        seed=config["seed"],
        device=config["device"],
        cpu_kernels=CPU_KERNELS,
    script:
        "../scripts/train_recognizer.py"


rule recognize:
    input:
        model=f"{RECOGNITION_MODELS}/recognizer.pt",
        predictions=recognition_predictions,
        stores=recognition_test_stores,
    output:
        RECOGNITION,
    log:
        f"{RESULTS}/logs/recognize/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/recognize/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: config["threads"]["spot"]
    resources:
        gpu=1,
    params:
        videos=test_videos,
        held_out=held_out,
        device=config["device"],
        cpu_kernels=CPU_KERNELS,
    script:
        "../scripts/recognize.py"
