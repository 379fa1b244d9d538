//! Live camera frames (feature `camera`), via nokhwa. Only a [`FrameSource`]: the
//! decoding is the same pipeline the tests run on image files.

use image::GrayImage;
use nokhwa::Camera;
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};

use crate::LabelError;
use crate::decode::FrameSource;

pub struct CameraSource {
    camera: Camera,
    name: String,
}

fn camera_error(name: &str, e: impl std::fmt::Display) -> LabelError {
    LabelError::Frame {
        name: name.to_owned(),
        reason: e.to_string(),
    }
}

impl CameraSource {
    /// Opens camera `index` (0 is the first) at its highest resolution: symbols on a
    /// tube label are small, resolution matters more than frame rate.
    pub fn open(index: u32) -> Result<CameraSource, LabelError> {
        let name = format!("camera {index}");
        let format =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestResolution);
        let mut camera =
            Camera::new(CameraIndex::Index(index), format).map_err(|e| camera_error(&name, e))?;
        camera.open_stream().map_err(|e| camera_error(&name, e))?;
        Ok(CameraSource { camera, name })
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, LabelError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| camera_error(&self.name, e))?;
        let decoded = buffer
            .decode_image::<LumaFormat>()
            .map_err(|e| camera_error(&self.name, e))?;
        let (w, h) = (decoded.width(), decoded.height());
        // nokhwa may use another `image` version: cross over through the raw bytes.
        GrayImage::from_raw(w, h, decoded.into_raw())
            .map(Some)
            .ok_or_else(|| camera_error(&self.name, "frame size does not match its data"))
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        // Releasing the device is best effort; the OS frees it when we exit anyway.
        let _ = self.camera.stop_stream();
    }
}
