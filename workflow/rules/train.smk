# Leave-one-subject-out training: one job per (spotting config, held-out subject) and stage.
# Inputs list only the training subjects' stores, so the held-out subject cannot leak in.


rule train_apex:
    input:
        annotations=f"{RESULTS}/annotations.csv",
        stores=training_stage1,
    output:
        model=f"{RESULTS}/models/{{config}}/{{subject}}/apex.pt",
        losses=f"{RESULTS}/models/{{config}}/{{subject}}/apex_losses.csv",
        used=f"{RESULTS}/models/{{config}}/{{subject}}/apex_config.yaml",
    log:
        f"{RESULTS}/logs/train_apex/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_apex/{{config}}/{{subject}}.tsv"
    priority: PRIORITY["train_apex"]
    conda:
        "../../envs/model.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    params:
        stage="apex",
        videos=training_videos,
        held_out=lambda wildcards: wildcards.subject,
        spot=spot_settings,
        train=training(config, "apex_net"),
        features=config["preprocess"]["features"],
        # Recorded in the checkpoint for `tsmsnet spot` (they shaped the inputs anyway).
        face_size=config["preprocess"]["face_size"],
        landmarks=config["preprocess"]["landmarks"],
        flow=flow_params(),
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/train_fold.py"


rule train_interval:
    input:
        annotations=f"{RESULTS}/annotations.csv",
        stores=training_stage2,
    output:
        model=f"{RESULTS}/models/{{config}}/{{subject}}/interval.pt",
        losses=f"{RESULTS}/models/{{config}}/{{subject}}/interval_losses.csv",
        used=f"{RESULTS}/models/{{config}}/{{subject}}/interval_config.yaml",
    log:
        f"{RESULTS}/logs/train_interval/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_interval/{{config}}/{{subject}}.tsv"
    priority: PRIORITY["train_interval"]
    conda:
        "../../envs/model.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    params:
        stage="interval",
        videos=training_videos,
        held_out=lambda wildcards: wildcards.subject,
        spot=spot_settings,
        train=training(config, "interval_net"),
        stride=config["preprocess"]["stage2_stride"],
        features=config["preprocess"]["features"],
        # Recorded in the checkpoint for `tsmsnet spot` (they shaped the inputs anyway).
        face_size=config["preprocess"]["face_size"],
        landmarks=config["preprocess"]["landmarks"],
        flow=flow_params(),
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/train_fold.py"
