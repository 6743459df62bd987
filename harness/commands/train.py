"""`harness train`: fine-tune a student on distilled data with TRL, then evaluate it and print retention."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", default=None, help="student checkpoint spec: hf:PATH or an embedded name (default: smollm2-135m)")
    parser.add_argument("--data", required=True, help="dataset directory written by 'harness distill'")
    parser.add_argument("--out", required=True, help="run directory (checkpoints/, model/, eval/, retention.json)")
    parser.add_argument("--config", default=None, help="YAML training settings (see trainers/sft.yaml); flags below override it")
    parser.add_argument("--lora", action="store_true", default=None, help="train LoRA adapters (peft), merged into model/ at the end")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after N optimizer steps (overrides --epochs)")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--batch-size", type=int, default=None, help="per-device train batch size")
    parser.add_argument("--grad-accum", type=int, default=None, help="gradient accumulation steps")
    parser.add_argument("--max-length", type=int, default=None, help="tokens per (packed) sequence")
    parser.add_argument("--no-packing", action="store_true", help="pad rows instead of packing them")
    parser.add_argument("--save-steps", type=int, default=None, help="checkpoint every N steps")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUT/checkpoints")
    parser.add_argument("--report-to", action="append", choices=["tensorboard", "wandb"], default=None)
    parser.add_argument("--seed", type=int, default=None, help="training seed")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    parser.add_argument("--eval-suite", action="append", default=None, help="suites to evaluate on (default: those in the data)")
    parser.add_argument("--eval-limit", type=int, default=None, help="test items per suite for the final evaluation")
    parser.add_argument("--eval-max-new-tokens", type=int, default=None)
    parser.add_argument("--eval-checkpoints", action="store_true", default=None, help="also evaluate every saved checkpoint")
    parser.add_argument("--teacher-results", default=None, help="teacher results.json to compute retention against "
                        "(default: the reference teacher when the data came from it)")


def overrides(args: argparse.Namespace) -> dict:
    return {
        "lora": args.lora,
        "max_steps": args.max_steps,
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "per_device_train_batch_size": args.batch_size,
        "gradient_accumulation_steps": args.grad_accum,
        "max_length": args.max_length,
        "packing": False if args.no_packing else None,
        "save_steps": args.save_steps,
        "report_to": args.report_to,
        "seed": args.seed,
        "eval": False if args.no_eval else None,
        "eval_suites": args.eval_suite,
        "eval_limit": args.eval_limit,
        "eval_max_new_tokens": args.eval_max_new_tokens,
        "eval_checkpoints": args.eval_checkpoints,
        "teacher_results": args.teacher_results,
    }


def run(args: argparse.Namespace) -> int:
    from harness.trainers.config import TrainConfig
    from harness.trainers.run import train_and_evaluate

    config = TrainConfig.load(args.config, overrides(args))
    train_and_evaluate(config, args.student, args.data, args.out, resume=args.resume)
    return 0
