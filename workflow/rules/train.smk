# Leave-one-subject-out training: one job per (spotting config, held-out subject) and stage.
# Inputs list only the training subjects' stores, so the held-out subject cannot leak in.


rule train_apex:
    input:
        annotations=ANNOTATIONS,
        stores=training_stage1,
    output:
        model=f"{MODELS}/apex.pt",
        losses=f"{MODELS}/apex_losses.csv",
        used=f"{MODELS}/apex_config.yaml",
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
        held_out=held_out,
        spot=spot_settings,
        train=TRAIN["apex_net"],
        targets=TARGETS,
        # Recorded in the checkpoint for `tsmsnet spot` (it shaped the inputs anyway).
        preprocess=PREPROCESS,
        seed=config["seed"],
        device=config["device"],
        cpu_kernels=CPU_KERNELS,
    script:
        "../scripts/train_fold.py"


rule train_interval:
    input:
        annotations=ANNOTATIONS,
        stores=training_stage2,
    output:
        model=f"{MODELS}/interval.pt",
        losses=f"{MODELS}/interval_losses.csv",
        used=f"{MODELS}/interval_config.yaml",
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
        held_out=held_out,
        spot=spot_settings,
        train=TRAIN["interval_net"],
        targets=TARGETS,
        # Recorded in the checkpoint for `tsmsnet spot` (it shaped the inputs anyway).
        preprocess=PREPROCESS,
        seed=config["seed"],
        device=config["device"],
        cpu_kernels=CPU_KERNELS,
    script:
        "../scripts/train_fold.py"
