# Spotting on each fold's held-out subject: step 1 proposals, step 2 classify + merge;
# the classical reference (flow magnitude, no training) and the training-free ROI-flow spotter
# (parameters searched on the fold's training videos) on the same videos; and step 2's
# boundaries refined on the flow-magnitude curve, the refinement's parameters chosen on the
# training subjects.


rule spot:
    input:
        # The fold's own models, or upstream's (config `models`; an ensemble of folds for a
        # subject without an upstream fold of its own).
        apex=spot_models("apex"),
        interval=spot_models("interval"),
        stage1=test_stage1,
        stage2=test_stage2,
    output:
        step1=f"{SPOTTING}/step1.csv",
        step2=f"{SPOTTING}/step2.csv",
        scores=f"{SPOTTING}/scores.csv",
    log:
        f"{RESULTS}/logs/spot/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/spot/{{config}}/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: config["threads"]["spot"]
    resources:
        gpu=1,
    params:
        test_videos=test_videos,
        held_out=held_out,
        spot=spot_settings,
        stride=config["preprocess"]["stage2_stride"],
        device=config["device"],
        # Switching between our models and upstream's reruns every fold's spotting.
        models=config["models"],
        cpu_kernels=CPU_KERNELS,
    script:
        "../scripts/spot.py"


rule classical:
    input:
        stage1=test_stage1,
    output:
        f"{SPOTTING}/classical.csv",
    log:
        f"{RESULTS}/logs/classical/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/classical/{{config}}/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        test_videos=test_videos,
        spot=spot_settings,
    script:
        "../scripts/classical.py"


rule roi_flow:
    input:
        annotations=ANNOTATIONS,
        # Training videos' curves choose the parameters; only the held-out ones are spotted.
        train=training_roi_curves,
        test=test_roi_curves,
    output:
        predictions=f"{SPOTTING}/roi_flow.csv",
        choice=f"{SPOTTING}/roi_flow_choice.json",
    log:
        f"{RESULTS}/logs/roi_flow/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/roi_flow/{{config}}/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        train_videos=training_videos,
        test_videos=test_videos,
        held_out=held_out,
        spot=spot_settings,
        roi_flow=roi_flow_settings,
    script:
        "../scripts/roi_flow.py"


rule refine:
    input:
        annotations=ANNOTATIONS,
        step2=f"{SPOTTING}/step2.csv",
        # The training subjects' curves and labels choose the parameters; the held-out
        # subject's curve only moves its own boundaries.
        train_stage1=training_stage1,
        test_stage1=test_stage1,
    output:
        refined=f"{SPOTTING}/step2_refined.csv",
        record=f"{SPOTTING}/refine.json",
    log:
        f"{RESULTS}/logs/refine/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/refine/{{config}}/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        train_videos=training_videos,
        test_videos=test_videos,
        held_out=held_out,
        spot=spot_settings,
        grid=REFINE_GRID,
    script:
        "../scripts/refine.py"
