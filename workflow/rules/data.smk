# Data: the synthetic default (generated) and the one normalised table every reader returns.


if SYNTHETIC:

    PRESET = synthetic_preset(config)
    SUBJECT_INDEX = {s: i for i, s in enumerate(SUBJECTS)}
    if LAYOUT == "casme2":
        SYN_FRAMES_OUT = [directory(f"{SYN_DATA}/rawpic/{{subject}}")]
    else:
        SYN_FRAMES_OUT = [
            directory(f"{SYN_DATA}/{{subject}}_{n}")
            for n in range(1, PRESET["videos_per_subject"] + 1)
        ]

    rule synthetic_subject:
        output:
            frames=SYN_FRAMES_OUT,
            truth=f"{RESULTS}/generated/{{subject}}.csv",
        log:
            f"{RESULTS}/logs/synthetic_subject/{{subject}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/synthetic_subject/{{subject}}.tsv"
        conda:
            "../../envs/preprocess.yaml"
        threads: config["threads"]["generate"]
        params:
            data_root=readers_root,
            subject_index=lambda wildcards: SUBJECT_INDEX[wildcards.subject],
            # Only what shapes this subject's frames: the subject count is left out, so
            # adding a subject regenerates nothing else; so are the training overrides.
            preset={k: v for k, v in PRESET.items() if k not in ("subjects", "train")},
            synthetic={k: v for k, v in config["synthetic"].items() if k != "presets"},
            fps=config["datasets"][LAYOUT]["fps"],
            face_size=config["preprocess"]["face_size"],
            seed=config["seed"],
        script:
            "../scripts/synthetic_subject.py"

    rule synthetic_workbook:
        input:
            truth=expand(f"{RESULTS}/generated/{{subject}}.csv", subject=SUBJECTS),
        output:
            workbook=f"{SYN_DATA}/{synthetic_workbook_name()}",
            csv=f"{SYN_DATA}/ground_truth.csv",
        log:
            f"{RESULTS}/logs/synthetic_workbook.log",
        benchmark:
            f"{RESULTS}/benchmarks/synthetic_workbook.tsv"
        conda:
            "../../envs/preprocess.yaml"
        threads: 1
        params:
            layout=LAYOUT,
            data_root=readers_root,
        script:
            "../scripts/synthetic_workbook.py"


rule annotations:
    input:
        **annotation_inputs(),
    output:
        videos=f"{RESULTS}/videos.csv",
        annotations=f"{RESULTS}/annotations.csv",
    log:
        f"{RESULTS}/logs/annotations.log",
    benchmark:
        f"{RESULTS}/benchmarks/annotations.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    params:
        reader=READER,
        data_root=readers_root,
        reader_cfg=config["datasets"][READER],
    script:
        "../scripts/annotations.py"
