fn main() {
    dgbot::mount();
}
